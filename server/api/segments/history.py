"""A segment's refresh history as the refresh engine records it (`_SegmentRun`): runs, who
entered and left in each, the member-count trend and last week's growth."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.api.context import Deps
from server.refresh import runs
from server.refresh.graph import Graph
from server.refresh.records import Growth, RunRecord, TrendPoint


def _graph(deps: Deps) -> Graph:
    return Graph(deps.db.driver, deps.db.database)


async def list_runs(deps: Deps, segment_id: str, first: int) -> list[RunRecord]:
    """Newest first."""
    return await runs.list_runs(_graph(deps), segment_id, limit=max(0, min(first, 100)))


async def trend(deps: Deps, segment_id: str, start: datetime, end: datetime) -> list[TrendPoint]:
    """Member count of each successful run in [start, end], oldest first."""
    return await runs.trend(_graph(deps), segment_id, start, end)


async def weekly_growth(deps: Deps, segment_id: str) -> Growth | None:
    return await runs.growth(_graph(deps), segment_id, deps.clock(), timedelta(days=7))


async def changed_keys(
    deps: Deps, segment_id: str, version: int | None, first: int, *, entered: bool
) -> list[str]:
    """Keys that entered (or left) in the run that wrote `version`, first page in key order."""
    if version is None or first <= 0:
        return []
    limit = min(first, deps.max_page_size)
    read = runs.entered_keys if entered else runs.exited_keys
    return [str(k) for k in await read(_graph(deps), segment_id, version, first=limit)]
