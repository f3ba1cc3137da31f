"""Keyed refreshes of many segments in one round: what a live change costs is one claim
transaction, the restricted evaluations (a few at a time) and one diff-and-switch transaction
for all the segments it concerns, not a claim, an evaluation, writes and a switch per segment.

The model of `refresh_segment(keys=...)`, unchanged: each segment gets a `_SegmentRun` and a
claimed version on top of its active one; the entered and exited memberships and the switch of
every segment are written in one transaction fenced by each claim (group_claims.py), so a
reader sees all of the new versions or none of them. A segment this round cannot take (a claim
pending, a version left by an aborted run, a cancel request, a source other than a compiled
query, a definition that does not compile) goes through `refresh_segment` as before, which
waits, takes over, cleans up or records the failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
import weakref
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.refresh import group_claims, membership, runs
from server.refresh.claims import ClaimLost, SegmentBusy, release_claim
from server.refresh.definitions import Compiler, DefinitionError
from server.refresh.group_claims import Switch, Wanted
from server.refresh.many_queries import chunked, evaluate_many
from server.refresh.records import (
    Claim,
    Definition,
    MemberQuery,
    Phase,
    RefreshOutcome,
    RunStatus,
    SegmentInfo,
)
from server.refresh.refresh import (
    RESAMPLE_AFTER,
    RefreshEnv,
    describe_failure,
    is_transient,
    refresh_segment,
)
from server.refresh.segments import load_definitions, load_segments
from server.refresh.sources import CypherSource

log = logging.getLogger("segments.refresh")


@dataclass(frozen=True, slots=True)
class KeyedResult:
    """A segment's outcome, with who entered and who left when it switched."""

    outcome: RefreshOutcome
    entered: tuple[Any, ...] = ()
    exited: tuple[Any, ...] = ()


async def refresh_keyed(
    env: RefreshEnv, keyed: Mapping[str, list[Any]], trigger: str
) -> list[KeyedResult]:
    """Refresh, for each segment id in `keyed`, only the profiles with those keys; segments in
    `keyed` must not read one another (one dependency level). Results in id order. Raises
    Neo4j/Redis connection errors (the claims taken are released, shown as QUEUED)."""
    ids = sorted(keyed)
    now = env.clock()
    infos, definitions = await asyncio.gather(
        load_segments(env.graph, ids), load_definitions(env.graph, ids)
    )
    plans = {}
    for info in infos:
        plan = _plan(env, info, definitions.get(info.id), now, keyed[info.id])
        if plan is not None:
            plans[info.id] = plan
    wanted = [Wanted(sid, uuid.uuid4().hex, _run_props(p, trigger, now))
              for sid, p in plans.items()]  # fmt: skip
    claims = await group_claims.claim_clean(env.graph, wanted, lease_ms=env.lease_ms)
    results = {}
    if claims:
        for result in await _round(env, [(plans[sid], claims[sid]) for sid in sorted(claims)]):
            results[result.outcome.segment_id] = result
    for sid in ids:
        if sid not in results:
            results[sid] = await refresh_alone(env, sid, keyed[sid], trigger)
    return [results[sid] for sid in ids]


@dataclass(frozen=True, slots=True)
class _Plan:
    segment: SegmentInfo
    definition: Definition
    query: MemberQuery
    keys: list[Any]


def _plan(
    env: RefreshEnv, segment: SegmentInfo, definition: Definition | None, now: datetime,
    keys: list[Any],
) -> _Plan | None:  # fmt: skip
    """What the round evaluates for a segment; None when only `refresh_segment` can take it."""
    if definition is None:
        return None
    try:
        query = compile_definition(env, segment, definition, now)
        source = env.source(segment, query)
    except DefinitionError:
        return None  # refresh_segment records the failure on a run
    if not isinstance(source, CypherSource) or query.keys_cypher is None:
        return None
    return _Plan(segment, definition, query, keys)


# Compiled definitions that do not follow the clock, per compiler (weakly: a compiler holds a
# schema, and a test's compiler goes away with it): a round compiles tens of definitions,
# ~1 ms each, at every change.
_TIME_FREE: weakref.WeakKeyDictionary[Compiler, dict[tuple[Any, ...], MemberQuery]] = (
    weakref.WeakKeyDictionary()
)
_TIME_FREE_MAX = 4096
# Far enough for every relative window to move (as server.live.windows probes).
_PROBE = timedelta(days=400, hours=1, minutes=1)


def compile_definition(
    env: RefreshEnv, segment: SegmentInfo, definition: Definition, now: datetime
) -> MemberQuery:
    """The definition compiled at `now`: from the cache when it compiles to the same query at
    any instant (no window, no `days ago`, no anniversary). Raises DefinitionError."""
    known = _TIME_FREE.setdefault(env.compiler, {})
    key = (segment.id, segment.type, segment.timezone, definition.version, definition.text)
    if key in known:
        return known[key]
    query = env.compiler(segment, definition, now)
    if env.compiler(segment, definition, now + _PROBE) == query:
        if len(known) >= _TIME_FREE_MAX:
            known.clear()
        known[key] = query
    return query


def _run_props(plan: _Plan, trigger: str, now: datetime) -> dict[str, Any]:
    return {"trigger": trigger, "now": now, "definitionVersion": plan.segment.definition_version}


async def _round(env: RefreshEnv, claimed: list[tuple[_Plan, Claim]]) -> list[KeyedResult]:
    """Evaluate, diff, write and switch the claimed segments, keeping their leases meanwhile."""
    try:
        async with _leases_kept(env, [c for _, c in claimed]):
            return await _evaluate_and_switch(env, claimed)
    except asyncio.CancelledError:
        await _release_all(env, claimed, RunStatus.FAILED, "interrupted (job timeout or shutdown)")
        raise
    except Exception as exc:
        if is_transient(exc):
            await _release_all(env, claimed, RunStatus.FAILED, f"retrying after: {exc}",
                               RunStatus.QUEUED)  # fmt: skip
            raise
        # As refresh_segment does: the runs fail with the reason, the claims end now (fenced:
        # one already switched is not touched), the caller goes on.
        reason = describe_failure(exc)
        log.exception("keyed round failed", extra={"segments": [c.segment_id for _, c in claimed]})
        return [await _failed(env, claim, reason) for _, claim in claimed]


@contextlib.asynccontextmanager
async def _leases_kept(env: RefreshEnv, claims: list[Claim]) -> AsyncIterator[None]:
    """Renew the claims' leases while the body runs, every third of a lease: a round is short,
    and a lost or cancelled claim shows at the switch's fence, so no faster beat is needed."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(env.lease_ms / 3000)
            with contextlib.suppress(Exception):
                await group_claims.renew_leases(env.graph, claims, lease_ms=env.lease_ms)

    keeper = asyncio.ensure_future(renew())
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


async def _evaluate_and_switch(
    env: RefreshEnv, claimed: list[tuple[_Plan, Claim]]
) -> list[KeyedResult]:
    fresh_all, active = await asyncio.gather(
        _select_all(env, [p for p, _ in claimed]),
        group_claims.active_among(env.graph, [(c, p.keys) for p, c in claimed]),
    )
    results, switches = [], []
    for (plan, claim), fresh in zip(claimed, fresh_all, strict=True):
        if isinstance(fresh, BaseException):
            if isinstance(fresh, Exception) and not is_transient(fresh):
                results.append(await _failed(env, claim, describe_failure(fresh), cleaned=True))
                continue
            raise fresh
        diff = membership.diff_members(active.get(claim.segment_id, set()), fresh)
        base = await _member_count(env, plan.segment, claim)
        diff = type(diff)(entered=diff.entered, exited=diff.exited,
                          member_count=base + len(diff.entered) - len(diff.exited))  # fmt: skip
        switches.append(Switch(claim, plan.query, diff, plan.definition.version))
    return results + await _switch(env, switches)


async def _select_all(env: RefreshEnv, plans: list[_Plan]) -> list[set[Any] | BaseException]:
    """Each plan's selected keys: a few definitions per query (`evaluate_many`), those queries
    at once; when one fails (a definition Neo4j refuses), that chunk's one by one, so only the
    bad one fails."""
    positions = chunked([p.query for p in plans])
    order = [i for chunk in positions for i in chunk]
    chunks = [[plans[i] for i in chunk] for chunk in positions]
    found = await asyncio.gather(*(_select_chunk(env, c) for c in chunks))
    selected: list[set[Any] | BaseException] = [set()] * len(plans)
    for i, keys in zip(order, (keys for chunk in found for keys in chunk), strict=True):
        selected[i] = keys
    return selected


async def _select_chunk(env: RefreshEnv, plans: list[_Plan]) -> list[set[Any] | BaseException]:
    try:
        return list(await evaluate_many(env.graph, [(p.query, p.keys) for p in plans]))
    except Exception as exc:
        if is_transient(exc) or len(plans) == 1:
            raise
    return list(await asyncio.gather(
        *(membership.evaluate_among(env.graph, p.query, p.keys) for p in plans),
        return_exceptions=True,
    ))  # fmt: skip


async def _member_count(env: RefreshEnv, segment: SegmentInfo, claim: Claim) -> int:
    """The whole segment's count before the change, as `refresh_segment` computes it."""
    if segment.member_count is not None and segment.active_version == claim.base:
        return segment.member_count
    return len(await membership.read_members(env.graph, claim.segment_id, claim.base))


async def _switch(env: RefreshEnv, switches: list[Switch]) -> list[KeyedResult]:
    """Write and switch in one transaction; a large diff (a clock run over many profiles) is
    written first in fenced batches, as a full refresh does, and only switched together."""
    rows = sum(len(s.diff.entered) + len(s.diff.exited) for s in switches)
    small = rows <= env.batch_size
    lost: set[str] = set()
    if not small:
        lost = await _write_each(env, switches)
    kept = [s for s in switches if s.claim.segment_id not in lost]
    fates = await group_claims.write_and_switch(env.graph, kept, with_diffs=small) if kept else {}
    results = [await _failed(env, s.claim, _LOST, cleaned=True) for s in switches
               if s.claim.segment_id in lost]  # fmt: skip
    done = []
    for s in kept:
        fate = fates[s.claim.segment_id]
        if fate is RunStatus.SUCCESSFUL:
            done.append(s)
            results.append(_switched(s))
        elif fate is RunStatus.CANCELLED:
            results.append(await _cancelled(env, s.claim, cleaned=small))
        else:
            results.append(await _failed(env, s.claim, _LOST, cleaned=small))
    await _after_switch(env, done)
    return results


async def _write_each(env: RefreshEnv, switches: list[Switch]) -> set[str]:
    """Each diff in fenced batches; returns the segments whose claim was lost meanwhile."""
    lost = set()
    for s in switches:
        try:
            await membership.write_diff(env.graph, s.claim, s.query, s.diff, _no_progress,
                                        env.batch_size)  # fmt: skip
        except ClaimLost:
            lost.add(s.claim.segment_id)
    return lost


async def _no_progress(done: int, total: int) -> None:
    return None


def _switched(s: Switch) -> KeyedResult:
    c, d = s.claim, s.diff
    outcome = RefreshOutcome(
        segment_id=c.segment_id, status=RunStatus.SUCCESSFUL, run_id=c.run_id, version=c.version,
        member_count=d.member_count, entered=len(d.entered), exited=len(d.exited),
    )  # fmt: skip
    return KeyedResult(outcome, d.entered, d.exited)


async def _after_switch(env: RefreshEnv, done: list[Switch]) -> None:
    """What `refresh_segment` does after its switch: progress DONE, garbage collection (kept
    versions and runs), index statistics after a big change."""
    if not done:
        return
    await asyncio.gather(*(env.publish(_done_event(s)) for s in done))
    keep = max(env.keep_versions, 2)  # see refresh._collect_garbage
    await _collect_garbage(env, [s.claim.segment_id for s in done], keep)
    if sum(len(s.diff.entered) + len(s.diff.exited) for s in done) >= RESAMPLE_AFTER:
        await env.graph.auto("CALL db.resampleOutdatedIndexes()")


async def _collect_garbage(env: RefreshEnv, segment_ids: list[str], keep: int) -> None:
    """After the switch: a failure here leaves garbage for the next round, not a failed run."""
    try:
        await group_claims.collect_garbage(
            env.graph, segment_ids, keep_versions=keep, keep_runs=max(env.keep_runs, keep),
            batch_size=env.batch_size, grace_s=env.gc_grace_s,
        )  # fmt: skip
    except Exception as exc:
        if is_transient(exc):
            raise
        log.exception("garbage collection failed", extra={"segments": segment_ids})


def _done_event(s: Switch) -> dict[str, Any]:
    return {"segmentId": s.claim.segment_id, "runId": s.claim.run_id, "phase": Phase.DONE.value,
            "percent": 100, "status": RunStatus.SUCCESSFUL.value,
            "members": s.diff.member_count, "entered": len(s.diff.entered),
            "exited": len(s.diff.exited)}  # fmt: skip


_LOST = "another run took over (lease expired) or the membership changed meanwhile"


async def _failed(env: RefreshEnv, claim: Claim, reason: str, cleaned: bool = False) -> KeyedResult:
    return await _ended(env, claim, RunStatus.FAILED, reason, cleaned)


async def _cancelled(env: RefreshEnv, claim: Claim, cleaned: bool) -> KeyedResult:
    return await _ended(env, claim, RunStatus.CANCELLED, "cancelled on request", cleaned)


async def _ended(
    env: RefreshEnv, claim: Claim, status: RunStatus, reason: str, cleaned: bool
) -> KeyedResult:
    """End a claimed run that did not switch, as `refresh_segment` does: undo what it wrote
    (unless nothing was), release the claim (fenced: a lost one is not touched)."""
    with contextlib.suppress(Exception):
        if not cleaned:
            await membership.clean_leftovers(env.graph, claim, env.batch_size)
        await release_claim(env.graph, claim, status, reason)
    await env.publish({"segmentId": claim.segment_id, "runId": claim.run_id,
                       "phase": Phase.DONE.value, "percent": 100, "status": status.value,
                       "reason": reason})  # fmt: skip
    outcome = RefreshOutcome(segment_id=claim.segment_id, status=status, run_id=claim.run_id,
                             reason=reason)  # fmt: skip
    return KeyedResult(outcome)


async def _release_all(
    env: RefreshEnv, claimed: list[tuple[_Plan, Claim]], status: RunStatus, detail: str,
    shown: RunStatus | None = None,
) -> None:  # fmt: skip
    for _, claim in claimed:
        with contextlib.suppress(Exception):
            await asyncio.shield(release_claim(env.graph, claim, status, detail, shown))


async def refresh_alone(
    env: RefreshEnv, segment_id: str, keys: list[Any], trigger: str
) -> KeyedResult:
    """One segment by itself (`refresh_segment`): what a round does not take."""
    try:
        outcome = await refresh_segment(env, segment_id, trigger, keys=keys)
    except SegmentBusy:  # a full refresh holds it: it reads the new data anyway
        return KeyedResult(RefreshOutcome(segment_id=segment_id, status=RunStatus.SKIPPED,
                                          reason="busy"))  # fmt: skip
    if outcome.status is not RunStatus.SUCCESSFUL or outcome.version is None:
        return KeyedResult(outcome)
    entered = await runs.entered_keys(env.graph, segment_id, outcome.version,
                                      first=outcome.entered or 0)  # fmt: skip
    exited = await runs.exited_keys(env.graph, segment_id, outcome.version,
                                    first=outcome.exited or 0)  # fmt: skip
    return KeyedResult(outcome, tuple(entered), tuple(exited))
