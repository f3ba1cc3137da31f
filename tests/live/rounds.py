"""A live round on the real Neo4j and Redis, for tests that watch what a round does through a
`Graph` subclass: eight customers ingested, every segment refreshed, then changes applied the
way the worker applies them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import neo4j
from arq.connections import ArqRedis, RedisSettings, create_pool

from graph_schema import GraphSchema, default_schema
from server.live.incremental import apply_changes, load_live
from server.live.ingest import ingest
from server.live.queue import CHANGES, drain
from server.live.records import Change
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.passes import refresh_pass
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.store.db import Db

G = TypeVar("G", bound=Graph)


def customer(key: str, satisfaction: int, city: str) -> dict[str, Any]:
    return {"entity": "Customer", "key": key,
            "properties": {"satisfaction": satisfaction, "city": city}}  # fmt: skip


async def quiet(event: dict[str, Any]) -> None:
    return None


@dataclass
class Rig(Generic[G]):
    graph: G
    env: RefreshEnv
    db: Db
    redis: ArqRedis
    schema: GraphSchema

    async def change(self, records: list[dict[str, Any]]) -> None:
        """Ingest `records` and apply them as the worker does (one round per level)."""

        async def apply(changes: list[Change]) -> None:
            await apply_changes(self.env, self.schema, changes, quiet, await load_live(self.env))

        assert (await ingest(self.db, self.redis, self.schema, records)).errors == ()
        assert await drain(self.redis, apply) == len(records)


@asynccontextmanager
async def live_rig(
    settings: Settings, graph_class: type[G], more: list[dict[str, Any]] | None = None
) -> AsyncIterator[Rig[G]]:
    """Customers c0..c7 (and `more` records) ingested and every segment refreshed in full."""
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )  # fmt: skip
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    try:
        graph = graph_class(driver, settings.neo4j_database)
        await ensure_refresh_schema(graph)
        db, schema = Db(driver, settings.neo4j_database), default_schema()
        env = RefreshEnv(graph=graph, compiler=grammar_compiler(schema), publish=quiet)
        start = [customer(f"c{i}", 10 * i, "Oslo" if i % 2 else "Rome") for i in range(8)]
        assert (await ingest(db, redis, schema, start + (more or []))).errors == ()
        await redis.delete(CHANGES)
        found = await graph.read("MATCH (s:_Segment) RETURN collect(s.id) AS ids")
        await refresh_pass(env, found[0]["ids"], "MANUAL")
        yield Rig(graph, env, db, redis, schema)
    finally:
        await redis.delete(CHANGES)
        await redis.aclose()
        await driver.close()
