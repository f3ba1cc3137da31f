"""A refresh of many segments in one topological pass: inputs before the segments that read
them, and dependents of an input that did not refresh SKIPPED with that reason."""

from __future__ import annotations

from server.refresh import segments
from server.refresh.claims import SegmentBusy
from server.refresh.order import (
    DependencyCycle,
    load_dependencies,
    topological_order,
    upstream_failure,
)
from server.refresh.records import RefreshOutcome, RunStatus
from server.refresh.refresh import RefreshEnv, refresh_segment


async def refresh_pass(
    env: RefreshEnv, segment_ids: list[str], trigger: str
) -> list[RefreshOutcome]:
    """Refresh `segment_ids` in dependency order; returns one outcome per segment, in the
    order run. Raises what refresh_segment raises for connection trouble (the task retries)."""
    deps = await load_dependencies(env.graph)
    try:
        order = topological_order([i for i in segment_ids if i in deps], deps)
    except DependencyCycle as cycle:  # refused on save; a loop here came from elsewhere
        reasons = {i: f"dependency cycle: {cycle}" for i in segment_ids if i in deps}
        await segments.mark_skipped(env.graph, reasons, trigger)
        return [_skipped(i, r) for i, r in reasons.items()]
    failed: dict[str, str] = {}
    outcomes: list[RefreshOutcome] = []
    for segment_id in order:
        outcome = await _one(env, segment_id, trigger, deps, failed)
        if outcome.status is not RunStatus.SUCCESSFUL:
            failed[segment_id] = outcome.status.value
        outcomes.append(outcome)
    return outcomes


async def _one(
    env: RefreshEnv, segment_id: str, trigger: str, deps: dict[str, list[str]],
    failed: dict[str, str],
) -> RefreshOutcome:  # fmt: skip
    if reason := upstream_failure(segment_id, deps, failed):
        await segments.mark_skipped(env.graph, {segment_id: reason}, trigger)
        return _skipped(segment_id, reason)
    try:
        return await refresh_segment(env, segment_id, trigger)
    except SegmentBusy:  # another run is refreshing it; dependents read what it switches to
        return _skipped(segment_id, "already refreshing elsewhere")


def _skipped(segment_id: str, reason: str) -> RefreshOutcome:
    return RefreshOutcome(segment_id=segment_id, status=RunStatus.SKIPPED, reason=reason)
