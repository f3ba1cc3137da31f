"""Refresh requests from the API, handed to the refresh engine's jobs (arq on Redis).

Running a segment whose definition does not compile is refused here, as activating it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments.commands import Outcome
from server.api.segments.domain import get, not_found
from server.refresh import jobs
from server.refresh.graph import Graph
from server.store import segments as store
from server.store.records import SegmentRecord

Code = UserErrorCode
MAX_SEGMENTS = 500


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    job_id: str
    segments: tuple[SegmentRecord, ...]


def _graph(deps: Deps) -> Graph:
    return Graph(deps.db.driver, deps.db.database)


def _problems(ids: list[str], found: list[SegmentRecord | None]) -> list[Problem]:
    problems: list[Problem] = []
    for i, seg in enumerate(found):
        field = ("ids", str(i))
        if seg is None:
            problems.append(not_found(field))
        elif not seg.valid:
            message = f"{seg.name}: the definition does not compile; fix it before running"
            problems.append(Problem(Code.DEFINITION_INVALID, field, message))
    return problems


async def refresh(deps: Deps, ids: list[str]) -> Outcome[RefreshRequest]:
    """Queue one refresh (one segment) or one pass in dependency order (several)."""
    ids = list(dict.fromkeys(ids))
    if not ids or len(ids) > MAX_SEGMENTS:
        message = f"give 1 to {MAX_SEGMENTS} segments"
        return Outcome.fail(Problem(Code.LIMIT_EXCEEDED, ("ids",), message))
    problems = _problems(ids, await store.get_segments(deps.db, ids))
    if problems:
        return Outcome.fail(*problems)
    submitted = await jobs.submit_refresh(deps.redis, _graph(deps), ids, "MANUAL")
    if submitted is None:  # every segment was deleted meanwhile
        return Outcome.fail(not_found(("ids",)))
    found = await store.get_segments(deps.db, list(submitted.segment_ids))
    return Outcome(RefreshRequest(submitted.job_id, tuple(s for s in found if s)))


async def cancel(deps: Deps, segment_id: str) -> Outcome[SegmentRecord]:
    """Cancel a queued or running refresh; the active membership stays."""
    if await get(deps, segment_id) is None:
        return Outcome.fail(not_found())
    if not await jobs.cancel_refresh(_graph(deps), segment_id):
        message = "no refresh is queued or running"
        return Outcome.fail(Problem(Code.NOTHING_TO_CANCEL, ("id",), message))
    seg = await get(deps, segment_id)
    return Outcome(seg) if seg else Outcome.fail(not_found())
