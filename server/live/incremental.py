"""Apply a batch of changed records to every live segment: only the segments that read what
changed, only the profiles the changes can move, inputs before the segments reading them.

Each segment is re-evaluated with its compiled query restricted to those profile keys and
written as a new membership version by the refresh engine (same runs, claims, diff and atomic
switch as a full refresh), so readers never see half an update and a periodic full refresh
reconciles whatever a lost batch missed. The segments of one dependency level go together
(server.refresh.keyed: one claim transaction, their evaluations, one transaction writing every
diff and switch), so a change costs about one round per level, not one per segment. Who
entered and who left is published per segment.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from grammar import SegmentError, compile_segment
from grammar import bound as b
from graph_schema import GraphSchema
from server.live.affected import Walks, affected_keys
from server.live.records import Change
from server.refresh.keyed import KeyedResult, refresh_alone, refresh_keyed
from server.refresh.order import DependencyCycle, load_dependencies, topological_order
from server.refresh.records import RefreshOutcome, RunStatus, SegmentInfo
from server.refresh.refresh import RefreshEnv
from server.refresh.segments import load_segments

log = logging.getLogger("segments.live")
MEMBERSHIP_CHANNEL = "membership:changes"
LIVE_TYPES = frozenset({"DYNAMIC", "COMPOUND"})
Announce = Callable[[dict[str, Any]], Awaitable[None]]


def is_live(segment: SegmentInfo) -> bool:
    """Dynamic and compound segments that are active and valid follow data as it changes."""
    return segment.type in LIVE_TYPES and segment.state == "ACTIVE" and segment.valid


async def apply_changes(
    env: RefreshEnv, schema: GraphSchema, changes: list[Change], announce: Announce,
    live: LiveSegments | None = None, together: bool = True,
) -> list[RefreshOutcome]:  # fmt: skip
    """Re-evaluate the profiles `changes` can move in every live segment that reads them
    (`live`: the live segments, when the caller loaded them already; `together`: see
    `apply_keys`)."""
    live = live or await load_live(env)
    walks: Walks = {}

    async def direct(segment: SegmentInfo) -> set[Any]:
        text = live.texts.get(segment.id)
        return await _direct_keys(env, schema, segment, text, changes, walks)

    return await apply_keys(env, live, direct, announce, together=together)


@dataclass(frozen=True, slots=True)
class LiveSegments:
    segments: dict[str, SegmentInfo]
    deps: dict[str, list[str]]  # segment id -> the ids it reads
    order: list[str]  # inputs first; empty when the references form a cycle
    texts: dict[str, str]  # current definition text


async def load_live(env: RefreshEnv) -> LiveSegments:
    # Three reads at once (every change pays them): all segments, their links, the texts.
    every, deps, texts = await asyncio.gather(
        load_segments(env.graph), load_dependencies(env.graph), _definitions(env)
    )
    segments = {s.id: s for s in every if is_live(s)}
    try:
        order = topological_order(list(segments), deps)
    except DependencyCycle:  # refused on save; the scheduled full refresh reports it
        order = []
    return LiveSegments(segments, deps, order, {k: texts[k] for k in segments if k in texts})


async def apply_keys(
    env: RefreshEnv, live: LiveSegments,
    direct: Callable[[SegmentInfo], Awaitable[set[Any]]], announce: Announce,
    trigger: str = "LIVE", together: bool = True,
) -> list[RefreshOutcome]:  # fmt: skip
    """Re-evaluate the profiles `direct` names and those that moved in a segment they read,
    one dependency level at a time: the segments of a level in one round (`refresh_keyed`:
    one claim, their evaluations, one diff-and-switch transaction), after their inputs'
    switches; announce who entered and who left. `together` False: one segment after the
    other, each by itself (the slower path, for comparison)."""
    moved: dict[str, set[Any]] = {}
    outcomes = []
    levels = dependency_levels(live.order, live.deps) if together else [[s] for s in live.order]
    for level in levels:
        found = await asyncio.gather(*(direct(live.segments[sid]) for sid in level))
        keyed = {}
        for segment_id, keys in zip(level, found, strict=True):
            for ref in live.deps.get(segment_id, ()):
                keys |= moved.get(ref, set())
            if keys:
                keyed[segment_id] = sorted(keys, key=str)
        events = []
        for result in await _refresh(env, keyed, trigger, together):
            outcome = result.outcome
            outcomes.append(outcome)
            if outcome.status is RunStatus.SUCCESSFUL and (result.entered or result.exited):
                moved[outcome.segment_id] = set(result.entered) | set(result.exited)
                events.append(_membership_event(outcome, result))
        # One event per segment of the level: they are independent, so sent at once.
        await asyncio.gather(*(announce(e) for e in events))
    return outcomes


async def _refresh(
    env: RefreshEnv, keyed: dict[str, list[Any]], trigger: str, together: bool
) -> list[KeyedResult]:
    if not keyed:
        return []
    if together:
        return await refresh_keyed(env, keyed, trigger)
    return [await refresh_alone(env, sid, keys, trigger) for sid, keys in keyed.items()]


def dependency_levels(order: list[str], deps: Mapping[str, Collection[str]]) -> list[list[str]]:
    """`order` (inputs first) cut into levels: a segment's level is one more than the deepest
    segment it reads, directly or through others, so no level reads itself."""
    depth: dict[str, int] = {}

    def level(node: str) -> int:
        if node not in depth:
            depth[node] = 0  # no cycles here: `order` is empty when there is one
            depth[node] = 1 + max((level(ref) for ref in deps.get(node, ())), default=-1)
        return depth[node]

    levels: dict[int, list[str]] = {}
    for segment_id in order:
        levels.setdefault(level(segment_id), []).append(segment_id)
    return [levels[n] for n in sorted(levels)]


async def _definitions(env: RefreshEnv) -> dict[str, str]:
    """Each segment's current definition text, in one query."""
    found = await env.graph.read(
        "MATCH (s:_Segment)-[:_HAS_DEFINITION]->(d:_SegmentDefinition) "
        "WHERE d.version = s.definitionVersion RETURN s.id AS id, d.text AS text"
    )
    return {r["id"]: r["text"] for r in found}


_BOUND: dict[tuple[int, str, str], b.BoundSegment | None] = {}
_BOUND_MAX = 4096


def bound_segment(text: str, schema: GraphSchema, timezone: str) -> b.BoundSegment | None:
    """What a definition reads, compiled once per text and schema (the worker's schema lives as
    long as the process): only its structure is used here (paths and attributes), never its
    time windows, so the compile-time "now" does not matter."""
    key = (id(schema), text, timezone)
    if key not in _BOUND:
        if len(_BOUND) >= _BOUND_MAX:
            _BOUND.clear()
        try:
            _BOUND[key] = compile_segment(text, schema, timezone=timezone).bound
        except SegmentError:
            _BOUND[key] = None  # the schema changed under it: the full refresh reports it
    return _BOUND[key]


async def _direct_keys(
    env: RefreshEnv, schema: GraphSchema, segment: SegmentInfo, text: str | None,
    changes: list[Change], walks: Walks,
) -> set[Any]:  # fmt: skip
    if segment.split is not None or not text or not text.strip():
        return set()  # a split group moves with its parent; a static one never does
    bound = bound_segment(text, schema, segment.timezone)
    return set() if bound is None else await affected_keys(env.graph, bound, changes, walks)


def _membership_event(outcome: RefreshOutcome, result: KeyedResult) -> dict[str, Any]:
    return {
        "segmentId": outcome.segment_id,
        "version": outcome.version,
        "at": datetime.now(UTC).isoformat(),
        "entered": list(result.entered),
        "exited": list(result.exited),
    }


def redis_announcer(redis: Any) -> Announce:
    async def announce(event: dict[str, Any]) -> None:
        await redis.publish(MEMBERSHIP_CHANNEL, json.dumps(event, default=str))

    return announce
