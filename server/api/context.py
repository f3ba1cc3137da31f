"""The typed per-request context: the shared driver and pools plus per-request loaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import strawberry
from arq.connections import ArqRedis
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from graph_schema.model import GraphSchema
from server.access import Principal
from server.outgoing import OutgoingPolicy
from server.settings import Settings
from server.store import Db
from server.store.records import SegmentRecord
from server.store.segments import get_segments


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Deps:
    """What domain functions need: no GraphQL, no HTTP."""

    db: Db
    redis: ArqRedis
    schema: GraphSchema
    principal: Principal
    max_page_size: int
    export_root: Path  # folder export destinations stay under it
    clock: Callable[[], datetime] = utc_now
    outgoing: OutgoingPolicy = field(default_factory=OutgoingPolicy)  # URLs we may call

    @property
    def actor(self) -> str:
        """Who is recorded as having made a change."""
        return self.principal.actor


def _segment_loader(db: Db) -> DataLoader[str, SegmentRecord | None]:
    async def load(ids: list[str]) -> list[SegmentRecord | None]:
        return await get_segments(db, ids)

    return DataLoader(load_fn=load)


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | None
    deps: Deps
    settings: Settings
    segments: DataLoader[str, SegmentRecord | None] = field(init=False)
    connection_params: dict[str, object] | None = None  # a socket's connection_init payload
    # Member pages read with their segment (segments.member_prefetch), by PageKey.
    member_pages: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.segments = _segment_loader(self.deps.db)

    @property
    def principal(self) -> Principal:
        return self.deps.principal


Info = strawberry.Info[Context, None]
