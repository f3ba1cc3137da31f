"""One refresh of one segment, end to end: claim, evaluate with `now` fixed, diff, write the
new version, switch, collect garbage. Everything it does is either invisible until the switch
or undone by the next claim, so it may be killed or re-run at any point.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.refresh import claims, membership, runs, segments
from server.refresh.claims import ClaimLost, RequestCancelled, SegmentBusy, SegmentMissing
from server.refresh.definitions import Compiler, DefinitionError
from server.refresh.graph import Graph
from server.refresh.progress import ProgressReporter, Publish
from server.refresh.records import (
    Claim,
    Definition,
    Phase,
    RefreshOutcome,
    RunStatus,
    SegmentInfo,
)
from server.refresh.sources import MemberSource, SourceFactory, member_source


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshEnv:
    graph: Graph
    compiler: Compiler
    publish: Publish
    lease_ms: int = 60_000
    busy_wait_s: float = 300.0  # how long to wait for another run's claim before giving up
    batch_size: int = membership.BATCH_SIZE
    write_in_flight: int = 1  # membership write transactions at once (membership.write_diff)
    keep_versions: int = 10  # membership versions kept for "as of a past run"
    gc_grace_s: float = 0.0  # GC spares versions replaced less than this long ago
    keep_runs: int = 1000  # run history kept per segment (trend, growth)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    source: SourceFactory = member_source  # where a segment's members come from


async def refresh_segment(
    env: RefreshEnv, segment_id: str, trigger: str, keys: list[Any] | None = None
) -> RefreshOutcome:
    """Refresh one segment now: all of it, or only the profiles in `keys` (incremental refresh
    after their data changed; same versions, fence and switch). Returns SUCCESSFUL, FAILED
    (bad definition or query) or CANCELLED outcomes. Raises SegmentBusy when another run
    keeps its claim past `busy_wait_s`, and Neo4j/Redis connection errors (tasks retry those)."""
    run_id = uuid.uuid4().hex
    segment = await segments.load_segment(env.graph, segment_id)
    definition = await segments.load_definition(env.graph, segment_id)
    if segment is None:
        return RefreshOutcome(segment_id=segment_id, status=RunStatus.FAILED, reason="missing")
    now = env.clock()
    props = {"trigger": trigger, "now": now, "definitionVersion": segment.definition_version}
    try:
        claim = await _claim(env, segment_id, run_id, props)
    except RequestCancelled:
        return RefreshOutcome(segment_id=segment_id, status=RunStatus.CANCELLED, reason="cancelled")
    except SegmentMissing:
        return RefreshOutcome(segment_id=segment_id, status=RunStatus.FAILED, reason="missing")
    reporter = ProgressReporter(env.publish, segment_id, run_id)
    outcome = await _guarded(env, claim, _Input(segment, definition, now, keys), reporter)
    if outcome.status is RunStatus.SUCCESSFUL:
        counts = {"members": outcome.member_count, "entered": outcome.entered,
                  "exited": outcome.exited}  # fmt: skip
        await reporter.phase(Phase.DONE, 100, status=outcome.status.value, **counts)
        await _collect_garbage(env, segment_id)
        await _resample_after_big_change(env, (outcome.entered or 0) + (outcome.exited or 0))
    else:
        await reporter.phase(Phase.DONE, 100, status=outcome.status.value, reason=outcome.reason)
    return outcome


@dataclass(slots=True)
class _RunState:
    """Shared by a run's work and its heartbeat."""

    switching: bool = False  # the switch started: the claim ends with it, stop renewing
    stop: BaseException | None = None  # why the heartbeat stopped the work


async def _claim(env: RefreshEnv, segment_id: str, run_id: str, props: dict[str, Any]) -> Claim:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + env.busy_wait_s
    while True:
        try:
            return await claims.claim_segment(
                env.graph, segment_id, run_id, lease_ms=env.lease_ms, run_props=props
            )
        except SegmentBusy:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.2)


@dataclass(frozen=True, slots=True)
class _Input:
    """What a run evaluates, read before its claim."""

    segment: SegmentInfo
    definition: Definition | None
    now: datetime
    keys: list[Any] | None  # only these profiles (incremental), or None for all


async def _guarded(
    env: RefreshEnv, claim: Claim, given: _Input, reporter: ProgressReporter
) -> RefreshOutcome:
    """Run the claimed work beside a heartbeat that renews the lease and stops the work when
    the refresh is cancelled or the claim lost."""
    state = _RunState()
    work = asyncio.ensure_future(_work(env, claim, given, reporter, state))
    beat = asyncio.ensure_future(_heartbeat(env, claim, work, state))
    try:
        return await work
    except asyncio.CancelledError:
        if state.stop is None:  # cancelled from outside (abort, timeout, shutdown)
            await _release(env, claim, RunStatus.FAILED, "interrupted (job timeout or shutdown)")
            raise
        return await _ended(env, claim, state.stop)
    except (RequestCancelled, ClaimLost, DefinitionError) as exc:
        return await _ended(env, claim, exc)
    except Exception as exc:
        if is_transient(exc):
            await _release(env, claim, RunStatus.FAILED, f"retrying after: {exc}", RunStatus.QUEUED)
            raise
        return await _ended(env, claim, exc)
    finally:
        beat.cancel()


async def _ended(env: RefreshEnv, claim: Claim, exc: BaseException) -> RefreshOutcome:
    status = RunStatus.CANCELLED if isinstance(exc, RequestCancelled) else RunStatus.FAILED
    detail = "cancelled on request" if status is RunStatus.CANCELLED else describe_failure(exc)
    if not isinstance(exc, ClaimLost):
        # Undo the half-written version now rather than at the next claim, so that nothing
        # else that allocates versions (a static segment's manual edit) can adopt it.
        with contextlib.suppress(Exception):
            await membership.clean_leftovers(env.graph, claim, env.batch_size)
    await _release(env, claim, status, detail)
    return RefreshOutcome(
        segment_id=claim.segment_id, status=status, run_id=claim.run_id, reason=detail
    )


async def _release(
    env: RefreshEnv, claim: Claim, status: RunStatus, detail: str, shown: RunStatus | None = None
) -> None:
    # Best effort: when Neo4j is down the lease simply runs out and the next claim cleans up.
    with contextlib.suppress(Exception):
        await asyncio.shield(claims.release_claim(env.graph, claim, status, detail, shown))


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, ClaimLost):
        return "another run took over (lease expired) or the membership changed meanwhile"
    return f"{type(exc).__name__}: {exc}"


def is_transient(exc: Exception) -> bool:
    from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from server.store.version_scan import ScanInconsistent

    # A version scan that kept reading wrong (server.store.version_scan) passes with time: the
    # run is queued again rather than failed, and never writes a diff of a wrong read.
    transient = (ServiceUnavailable, SessionExpired, TransientError, RedisConnectionError,
                 ScanInconsistent)  # fmt: skip
    return isinstance(exc, (*transient, OSError))


async def _heartbeat(
    env: RefreshEnv, claim: Claim, work: asyncio.Future[Any], state: _RunState
) -> None:
    interval = min(env.lease_ms / 3000, 1.0)
    while not work.done() and not state.switching:
        await asyncio.sleep(interval)
        if state.switching:
            return
        try:
            await claims.renew_lease(env.graph, claim, lease_ms=env.lease_ms)
        except (RequestCancelled, ClaimLost) as exc:
            if state.switching:  # the switch ended the claim meanwhile: not a loss
                return
            state.stop = exc
            work.cancel()
            return
        except Exception:
            continue


async def _work(
    env: RefreshEnv, claim: Claim, given: _Input, reporter: ProgressReporter, state: _RunState
) -> RefreshOutcome:
    await reporter.phase(Phase.CLAIMING, version=claim.version)
    if claim.dirty:
        await membership.clean_leftovers(env.graph, claim, env.batch_size)
    definition = given.definition
    if definition is None:
        raise DefinitionError("the segment has no definition")
    query = env.compiler(given.segment, definition, given.now)
    source = env.source(given.segment, query)
    await reporter.phase(Phase.EVALUATING)
    fresh, active = await _evaluate(env, claim, source, given.keys, reporter)
    diff = membership.diff_members(active, fresh)
    if given.keys is not None:  # the count of the whole segment, not of the keys looked at
        base = await _member_count(env, claim, given.segment)
        diff = dataclasses.replace(diff, member_count=base + len(diff.entered) - len(diff.exited))
    await reporter.phase(Phase.WRITING)
    await membership.write_diff(env.graph, claim, query, diff, reporter.writing, env.batch_size,
                                env.write_in_flight)  # fmt: skip
    await reporter.phase(Phase.SWITCHING, 100)
    counts = {"members": diff.member_count, "entered": len(diff.entered),
              "exited": len(diff.exited)}  # fmt: skip
    state.switching = True
    await claims.switch_version(env.graph, claim, definition_version=definition.version,
                                counts=counts)  # fmt: skip
    return RefreshOutcome(
        segment_id=claim.segment_id, status=RunStatus.SUCCESSFUL, run_id=claim.run_id,
        version=claim.version, member_count=diff.member_count, entered=len(diff.entered),
        exited=len(diff.exited),
    )  # fmt: skip


async def _evaluate(
    env: RefreshEnv, claim: Claim, source: MemberSource, keys: list[Any] | None,
    reporter: ProgressReporter,
) -> tuple[set[Any], set[Any]]:  # fmt: skip
    """(selected now, active members): of every profile, or only of `keys`."""
    fresh = await source.select(env.graph, keys, reporter.report)
    await reporter.phase(Phase.DIFFING)
    if keys is None:
        return fresh, await membership.read_members(env.graph, claim.segment_id, claim.base)
    active = await membership.read_members_among(env.graph, claim.segment_id, claim.base, keys)
    return fresh, active


async def _member_count(env: RefreshEnv, claim: Claim, segment: SegmentInfo) -> int:
    if segment.member_count is not None and segment.active_version == claim.base:
        return segment.member_count
    return len(await membership.read_members(env.graph, claim.segment_id, claim.base))


# Past this many changed memberships, the (segmentId, key) index's statistics may say a segment
# is tiny when it is huge (or the reverse) and the planner then sorts member pages instead of
# reading them in index order. Neo4j resamples by itself only later.
RESAMPLE_AFTER = 10_000


async def _resample_after_big_change(env: RefreshEnv, changed: int) -> None:
    if changed >= RESAMPLE_AFTER:
        await env.graph.auto("CALL db.resampleOutdatedIndexes()")


async def _collect_garbage(env: RefreshEnv, segment_id: str) -> None:
    # Never fewer than two: a reader that bound the previous version just before the switch
    # must still find all of it.
    keep = max(env.keep_versions, 2)
    oldest = await runs.oldest_kept_version(env.graph, segment_id, keep, env.gc_grace_s)
    if oldest is not None:
        await membership.collect_garbage(env.graph, segment_id, oldest, env.batch_size)
    await runs.prune_runs(env.graph, segment_id, max(env.keep_runs, keep))
