"""GraphQL object types of the exports domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from server.api.common import connection, field, segment_gid
from server.api.context import Info
from server.api.exports import domain
from server.api.exports.enums import DestinationKind, ExportRunStatus, ExportState, TriggerKind
from server.api.segments.types import Segment
from server.exports.records import ExportRecord, ExportRunRecord, RunSegment
from server.store.records import Page


@strawberry.type(description="Where an export writes. Header values are never shown.")
class ExportDestination:
    kind: DestinationKind
    path: str | None = strawberry.field(description="Folder, relative to the export root.")
    url: str | None
    header_names: list[str]


@strawberry.type
class ExportTrigger:
    kind: TriggerKind
    cron: str | None
    timezone: str


@strawberry.type(description="What one run wrote of one segment.")
class ExportRunSegment:
    segment_id: strawberry.ID
    name: str
    rows: int
    file: str | None = strawberry.field(description="Written file, relative to the export root.")

    @staticmethod
    def of(s: RunSegment) -> ExportRunSegment:
        gid = strawberry.ID(segment_gid(s.segment_id))
        return ExportRunSegment(segment_id=gid, name=s.name, rows=s.rows, file=s.file)


def run_gid(run_id: str) -> str:
    return str(relay.GlobalID("ExportRun", run_id))


@strawberry.type(description="One run of an export, with what it wrote or why it failed.")
class ExportRun:
    id: strawberry.ID
    number: int = strawberry.field(description="The export's run number (1, 2, ...).")
    status: ExportRunStatus
    trigger: str = strawberry.field(description="MANUAL, SCHEDULE or AFTER_REFRESH.")
    job_id: str = strawberry.field(description="The worker job (deterministic id).")
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    segments: list[ExportRunSegment]
    rows: int = strawberry.field(description="Rows written over all segments.")

    @staticmethod
    def of(r: ExportRunRecord) -> ExportRun:
        return ExportRun(
            id=strawberry.ID(run_gid(r.id)), number=r.seq, status=r.status, trigger=r.trigger,
            job_id=r.job_id, queued_at=r.queued_at, started_at=r.started_at,
            finished_at=r.finished_at, error=r.error,
            segments=[ExportRunSegment.of(s) for s in r.segments],
            rows=sum(s.rows for s in r.segments),
        )  # fmt: skip


@strawberry.type(description="A named export: segments with chosen columns to a destination.")
class Export(relay.Node):
    id: relay.NodeID[str]
    name: str
    description: str
    state: ExportState
    destination: ExportDestination
    columns: list[str] | None = strawberry.field(description="Null: every attribute.")
    trigger: ExportTrigger
    status: ExportRunStatus | None = strawberry.field(description="The last run's status.")
    last_run_at: datetime | None
    lost_segments: list[str] = strawberry.field(description="Force-deleted segments it carried.")
    created_at: datetime
    updated_at: datetime
    created_by: str
    record: strawberry.Private[ExportRecord]

    @staticmethod
    def of(r: ExportRecord) -> Export:
        d, t = r.destination, r.trigger
        return Export(
            id=r.id, name=r.name, description=r.description, state=r.state,
            destination=ExportDestination(kind=d.kind, path=d.path, url=d.url,
                                          header_names=[h[0] for h in d.headers]),
            columns=list(r.columns) if r.columns is not None else None,
            trigger=ExportTrigger(kind=t.kind, cron=t.cron, timezone=t.timezone),
            status=r.last_run_status, last_run_at=r.last_run_at,
            lost_segments=list(r.lost_segments), created_at=r.created_at,
            updated_at=r.updated_at, created_by=r.created_by, record=r,
        )  # fmt: skip

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Export | None]:
        found = [await domain.get(info.context.deps, i) for i in node_ids]
        return [Export.of(r) if r else None for r in found]

    @field("The segments it carries, in order.")
    async def segments(self, info: Info) -> list[Segment]:
        found = await info.context.segments.load_many([s.id for s in self.record.segments])
        return [Segment.of(s) for s in found if s is not None]

    @field("Runs, newest first.")
    async def runs(self, info: Info, first: int = 20) -> list[ExportRun]:
        found = await domain.list_runs(info.context.deps, self.id, first)
        return [ExportRun.of(r) for r in found]

    @field("The latest run.")
    async def last_run(self, info: Info) -> ExportRun | None:
        found = await domain.list_runs(info.context.deps, self.id, 1)
        return ExportRun.of(found[0]) if found else None


@strawberry.type
class ExportEdge:
    cursor: str
    node: Export


@strawberry.type
class ExportConnection:
    edges: list[ExportEdge]
    page_info: relay.PageInfo
    total_count: int


def export_connection(page: Page[ExportRecord], after: str | None) -> ExportConnection:
    return connection(page, after, Export.of, ExportEdge, ExportConnection)
