"""GraphQL types of a segment's refresh history."""

from __future__ import annotations

from datetime import datetime

import strawberry

from server.access import Permission
from server.api.common import field
from server.api.context import Info
from server.api.segments import history
from server.refresh.records import Growth, RunRecord, TrendPoint
from server.store.records import RefreshStatus


@strawberry.type(description="One refresh of the segment.")
class SegmentRun:
    id: strawberry.ID
    status: RefreshStatus
    trigger: str
    definition_version: int = strawberry.field(description="The definition version it used.")
    membership_version: int | None
    evaluated_at: datetime = strawberry.field(description='The "now" the definition used.')
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    member_count: int | None
    entered_count: int | None
    exited_count: int | None
    error: str | None
    segment_id: strawberry.Private[str]

    @field(
        "Keys of the profiles that entered in this run, in key order (at most the page size); "
        "empty for a run that wrote no version.",
        requires=Permission.READ_MEMBERS,
    )
    async def entered(self, info: Info, first: int = 100) -> list[str]:
        return await history.changed_keys(
            info.context.deps, self.segment_id, self.membership_version, first, entered=True
        )

    @field(
        "Keys of the profiles that left in this run, in key order (at most the page size); "
        "exact while the run's version is kept (retention), empty after.",
        requires=Permission.READ_MEMBERS,
    )
    async def exited(self, info: Info, first: int = 100) -> list[str]:
        return await history.changed_keys(
            info.context.deps, self.segment_id, self.membership_version, first, entered=False
        )

    @staticmethod
    def of(r: RunRecord) -> SegmentRun:
        return SegmentRun(
            id=strawberry.ID(r.id), status=RefreshStatus(r.status.value), trigger=r.trigger,
            definition_version=r.definition_version, membership_version=r.version,
            evaluated_at=r.now, queued_at=r.queued_at, started_at=r.started_at,
            finished_at=r.finished_at, duration_ms=r.duration_ms, member_count=r.member_count,
            entered_count=r.entered_count, exited_count=r.exited_count, error=r.error,
            segment_id=r.segment_id,
        )  # fmt: skip


@strawberry.type
class SegmentTrendPoint:
    at: datetime
    member_count: int
    membership_version: int

    @staticmethod
    def of(p: TrendPoint) -> SegmentTrendPoint:
        return SegmentTrendPoint(at=p.at, member_count=p.member_count, membership_version=p.version)


@strawberry.type(description="Member count now against a week ago.")
class SegmentGrowth:
    current: int
    previous: int
    delta: int
    since: datetime

    @staticmethod
    def of(g: Growth) -> SegmentGrowth:
        return SegmentGrowth(current=g.current, previous=g.previous, delta=g.delta, since=g.since)
