"""Apply a batch of changed records to every live segment: only the segments that read what
changed, only the profiles the changes can move, inputs before the segments reading them.

Each segment is re-evaluated with its compiled query restricted to those profile keys and
written as a new membership version by the refresh engine (same claim, diff and atomic
switch as a full refresh), so readers never see half an update and a periodic full refresh
reconciles whatever a lost batch missed. Who entered and who left is published per segment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from grammar import SegmentError, compile_segment
from grammar import bound as b
from graph_schema import GraphSchema
from server.live.affected import affected_keys
from server.live.records import Change
from server.refresh import runs
from server.refresh.claims import SegmentBusy
from server.refresh.order import DependencyCycle, load_dependencies, topological_order
from server.refresh.records import RefreshOutcome, RunStatus, SegmentInfo
from server.refresh.refresh import RefreshEnv, refresh_segment
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
    live: LiveSegments | None = None,
) -> list[RefreshOutcome]:  # fmt: skip
    """Re-evaluate the profiles `changes` can move in every live segment that reads them
    (`live`: the live segments, when the caller loaded them already)."""
    live = live or await load_live(env)

    async def direct(segment: SegmentInfo) -> set[Any]:
        return await _direct_keys(env, schema, segment, live.texts.get(segment.id), changes)

    return await apply_keys(env, live, direct, announce)


@dataclass(frozen=True, slots=True)
class LiveSegments:
    segments: dict[str, SegmentInfo]
    deps: dict[str, list[str]]  # segment id -> the ids it reads
    order: list[str]  # inputs first; empty when the references form a cycle
    texts: dict[str, str]  # current definition text


async def load_live(env: RefreshEnv) -> LiveSegments:
    segments = {s.id: s for s in await load_segments(env.graph) if is_live(s)}
    deps = await load_dependencies(env.graph)
    try:
        order = topological_order(list(segments), deps)
    except DependencyCycle:  # refused on save; the scheduled full refresh reports it
        order = []
    texts = await _definitions(env, list(segments))
    return LiveSegments(segments, deps, order, texts)


async def apply_keys(
    env: RefreshEnv, live: LiveSegments,
    direct: Callable[[SegmentInfo], Awaitable[set[Any]]], announce: Announce,
    trigger: str = "LIVE",
) -> list[RefreshOutcome]:  # fmt: skip
    """Re-evaluate, segment by segment in dependency order, the profiles `direct` names and
    those that moved in a segment it reads; announce who entered and who left."""
    moved: dict[str, set[Any]] = {}
    outcomes = []
    for segment_id in live.order:
        keys = await direct(live.segments[segment_id])
        for ref in live.deps.get(segment_id, ()):
            keys |= moved.get(ref, set())
        if not keys:
            continue
        outcome = await _refresh_keys(env, segment_id, sorted(keys, key=str), trigger)
        outcomes.append(outcome)
        if (
            outcome.status is RunStatus.SUCCESSFUL
            and outcome.version
            and (outcome.entered or outcome.exited)
        ):
            event = await _membership_event(env, outcome)
            moved[segment_id] = set(event["entered"]) | set(event["exited"])
            await announce(event)
    return outcomes


async def _definitions(env: RefreshEnv, ids: list[str]) -> dict[str, str]:
    """Each segment's current definition text, in one query."""
    found = await env.graph.read(
        "MATCH (s:_Segment)-[:_HAS_DEFINITION]->(d:_SegmentDefinition) WHERE s.id IN $ids "
        "AND d.version = s.definitionVersion RETURN s.id AS id, d.text AS text",
        ids=ids,
    )
    return {r["id"]: r["text"] for r in found}


_BOUND: dict[tuple[int, str, str], b.BoundSegment | None] = {}
_BOUND_MAX = 4096


def _bound(text: str, schema: GraphSchema, timezone: str) -> b.BoundSegment | None:
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
    changes: list[Change],
) -> set[Any]:  # fmt: skip
    if segment.split is not None or not text or not text.strip():
        return set()  # a split group moves with its parent; a static one never does
    bound = _bound(text, schema, segment.timezone)
    return set() if bound is None else await affected_keys(env.graph, bound, changes)


async def _refresh_keys(
    env: RefreshEnv, segment_id: str, keys: list[Any], trigger: str
) -> RefreshOutcome:
    try:
        return await refresh_segment(env, segment_id, trigger, keys=keys)
    except SegmentBusy:  # a full refresh holds it: it reads the new data anyway
        return RefreshOutcome(segment_id=segment_id, status=RunStatus.SKIPPED, reason="busy")


async def _membership_event(env: RefreshEnv, outcome: RefreshOutcome) -> dict[str, Any]:
    assert outcome.version is not None
    version, segment_id = outcome.version, outcome.segment_id
    entered = await runs.entered_keys(env.graph, segment_id, version, first=outcome.entered or 0)
    exited = await runs.exited_keys(env.graph, segment_id, version, first=outcome.exited or 0)
    return {
        "segmentId": segment_id,
        "version": version,
        "at": datetime.now(UTC).isoformat(),
        "entered": entered,
        "exited": exited,
    }


def redis_announcer(redis: Any) -> Announce:
    async def announce(event: dict[str, Any]) -> None:
        await redis.publish(MEMBERSHIP_CHANNEL, json.dumps(event, default=str))

    return announce
