"""Time windows move with the clock: a profile leaves "ordered in the last 30 days" the instant
its last order turns 30 days old, and enters "birthday in the next 7 days" the midnight the
window reaches it, without a full refresh.

Per live segment whose definition follows the clock (`windows.time_leaves`), Redis keeps the
instant at which some stored value next changes sides of a moving boundary (`DUE`, a sorted
set) and the instant up to which every profile was brought up to date (`CHECKED`). A clock run
at `now` takes the segments due, finds the profiles holding a value the boundaries crossed
since their check (`stored.keys_in_ranges` / `keys_on_days`), re-evaluates exactly those with
`now` fixed, through the incremental path (a versioned run, trigger CLOCK, dependants after
their inputs), then schedules the next instant. Ingested changes can bring a nearer instant:
their segments are marked `STALE` and rescheduled, never later than already due.

A segment never checked counts as checked by its last full refresh (which evaluated everyone
at its `now`); a scheduled full refresh reconciles whatever a lost schedule missed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis

from grammar import SegmentError, parse
from grammar import ast as a
from grammar import bound as b
from graph_schema import GraphSchema
from server.live import stored
from server.live import windows as w
from server.live.incremental import Announce, LiveSegments, apply_keys, load_live
from server.live.queue import sure
from server.live.records import Change
from server.refresh.records import RefreshOutcome, RunStatus, SegmentInfo
from server.refresh.refresh import RefreshEnv

log = logging.getLogger("segments.live.clock")
DUE = "live:clock:due"
CHECKED = "live:clock:checked"
STALE = "live:clock:stale"
LOCK = "live:clock:lock"
PENDING = "live:clock:pending"
CLOCK_TASK = "live_clock"
TRIGGER = "CLOCK"
RETRY = dt.timedelta(seconds=5)  # a segment busy with another run is looked at again then
LOCK_MS = 300_000
WAKE_AHEAD = dt.timedelta(minutes=5)  # a deferred run is queued for instants this near


@dataclass(frozen=True, slots=True)
class Timed:
    segment: SegmentInfo
    tree: a.Segment
    leaves: tuple[w.TimeLeaf, ...]


@dataclass(frozen=True, slots=True)
class ClockRun:
    checked: tuple[str, ...]  # segments brought up to `now`
    outcomes: tuple[RefreshOutcome, ...]
    next_due: dt.datetime | None


_TIMED: dict[tuple[int, str, str], tuple[a.Segment, tuple[w.TimeLeaf, ...]] | None] = {}


def timed_segments(live: LiveSegments, schema: GraphSchema) -> dict[str, Timed]:
    """The live segments whose definition has a condition that follows the clock."""
    found = {}
    for segment_id, text in live.texts.items():
        segment = live.segments[segment_id]
        if segment.split is not None or not text.strip():
            continue
        derived = _derive(text, schema, segment.timezone)
        if derived is not None and derived[1]:
            found[segment_id] = Timed(segment, *derived)
    return found


def _derive(
    text: str, schema: GraphSchema, timezone: str
) -> tuple[a.Segment, tuple[w.TimeLeaf, ...]] | None:
    """Compiled once per text (which conditions move does not depend on when we look)."""
    key = (id(schema), text, timezone)
    if key not in _TIMED:
        if len(_TIMED) >= 4096:
            _TIMED.clear()
        try:
            tree = parse(text)
            _TIMED[key] = (tree, w.time_leaves(tree, schema, timezone, dt.datetime.now(dt.UTC)))
        except SegmentError:
            _TIMED[key] = None  # the schema changed under it: the full refresh reports it
    return _TIMED[key]


async def run_clock(
    env: RefreshEnv, schema: GraphSchema, redis: ArqRedis, now: dt.datetime, announce: Announce
) -> ClockRun:
    """Bring every segment due at `now` up to `now`, then schedule the next instants. One run
    at a time (a lock); a second returns at once with nothing done."""
    token = uuid.uuid4().hex
    if not await redis.set(LOCK, token, nx=True, px=LOCK_MS):
        return ClockRun((), (), None)
    try:
        await redis.delete(PENDING)
        return await _run(env, schema, redis, now, announce)
    finally:
        if await redis.get(LOCK) == token.encode():
            await redis.delete(LOCK)


async def _run(
    env: RefreshEnv, schema: GraphSchema, redis: ArqRedis, now: dt.datetime, announce: Announce
) -> ClockRun:
    live = await load_live(env)
    timed = timed_segments(live, schema)
    scheduled = {_text(m) for m in await redis.zrange(DUE, 0, -1)}
    gone = scheduled - set(timed)
    if gone:
        await redis.zrem(DUE, *gone)
        await sure(redis.hdel(CHECKED, *gone))
    due = {_text(m) for m in await redis.zrangebyscore(DUE, "-inf", micros(now))}
    due = (due | (set(timed) - scheduled)) & set(timed)  # never scheduled: look now
    stale = {_text(m) for m in await sure(redis.smembers(STALE))}
    if stale:
        await sure(redis.srem(STALE, *stale))
    crossed: dict[str, set[Any]] = {}
    for segment_id in sorted(due):
        since = await _checked_at(env, redis, segment_id)
        if since is not None and since < now:
            crossed[segment_id] = await _crossed(env, schema, timed[segment_id], since, now)
    fixed = dataclasses.replace(env, clock=lambda: now)

    async def direct(segment: SegmentInfo) -> set[Any]:
        return crossed.get(segment.id, set())

    outcomes = await apply_keys(fixed, live, direct, announce, TRIGGER)
    failed = {o.segment_id for o in outcomes if o.status is not RunStatus.SUCCESSFUL}
    for segment_id in sorted(due):
        if segment_id in failed:
            await redis.zadd(DUE, {segment_id: micros(now + RETRY)})
            continue
        await sure(redis.hset(CHECKED, segment_id, now.isoformat()))
        nxt = await next_due(env, schema, timed[segment_id], now)
        await redis.zadd(DUE, {segment_id: micros(nxt)})
    for segment_id in sorted((stale & set(timed)) - due):
        nxt = await next_due(env, schema, timed[segment_id], now)
        await redis.zadd(DUE, {segment_id: micros(nxt)}, lt=True)
    first = await redis.zrange(DUE, 0, 0, withscores=True)
    following = instant(first[0][1]) if first else None
    if due:
        log.info("clock", extra={"now": now.isoformat(), "checked": sorted(due),
                                 "profiles": sum(len(k) for k in crossed.values())})  # fmt: skip
    return ClockRun(tuple(sorted(due - failed)), tuple(outcomes), following)


async def _checked_at(env: RefreshEnv, redis: ArqRedis, segment_id: str) -> dt.datetime | None:
    """Up to when every profile of the segment follows the clock: its last clock check or its
    last full refresh, whichever is later."""
    found = await env.graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id, status: 'SUCCESSFUL'}) "
        "WHERE NOT r.trigger IN ['LIVE', 'CLOCK'] RETURN max(r.now) AS now",
        id=segment_id,
    )
    full = found[0]["now"].to_native() if found and found[0]["now"] is not None else None
    raw = await sure(redis.hget(CHECKED, segment_id))
    checked = dt.datetime.fromisoformat(_text(raw)) if raw else None
    known = [t for t in (full, checked) if t is not None]
    return max(known) if known else None


async def _crossed(
    env: RefreshEnv, schema: GraphSchema, timed: Timed, since: dt.datetime, now: dt.datetime
) -> set[Any]:
    """Profiles holding a value some boundary moved past between `since` and `now`."""
    tz = timed.segment.timezone
    early, late = (w.bind(timed.tree, schema, tz, t) for t in (since, now))
    keys: set[Any] = set()
    for leaf in timed.leaves:
        before, after = w.condition_at(early, leaf), w.condition_at(late, leaf)
        days = w.month_days(before) ^ w.month_days(after)
        keys |= await stored.keys_on_days(env.graph, leaf, days)
        spans = [_ordered(x, y) for x, y in zip(w.values(before), w.values(after), strict=True)]
        keys |= await stored.keys_in_ranges(env.graph, leaf, [s for s in spans if s[0] != s[1]])
    return keys


def _ordered(x: w.Bound, y: w.Bound) -> tuple[w.Bound, w.Bound]:
    return (x, y) if x <= y else (y, x)


async def next_due(
    env: RefreshEnv, schema: GraphSchema, timed: Timed, now: dt.datetime
) -> dt.datetime:
    """The first instant after `now` at which a stored value changes sides of one of the
    segment's moving boundaries (at the latest: the horizon)."""
    tz = timed.segment.timezone
    bound = w.bind(timed.tree, schema, tz, now)
    found = [now + w.HORIZON]
    for leaf in timed.leaves:
        node = w.condition_at(bound, leaf)
        if isinstance(node, b.BoundAnniversary):
            found += await _anniversary_due(env, schema, timed, leaf, now)
            continue
        for edge in w.boundaries(node):
            found += await _edge_due(env, schema, timed, leaf, edge, now)
    return min(found)


async def _edge_due(
    env: RefreshEnv, schema: GraphSchema, timed: Timed, leaf: w.TimeLeaf, edge: w.Boundary,
    now: dt.datetime,
) -> list[dt.datetime]:  # fmt: skip
    def at(t: dt.datetime) -> w.Bound:
        node = w.condition_at(w.bind(timed.tree, schema, timed.segment.timezone, t), leaf)
        return w.values(node)[edge.index]

    current = at(now)
    found = []
    for flip in edge.flips:
        # PASSED flips a value once the edge is beyond it: the nearest at or past the edge;
        # REACHED once the edge reaches it: the nearest strictly past the edge.
        value = await stored.nearest_ahead(env.graph, leaf, current, flip is w.Flip.REACHED)
        instant = None if value is None else w.first_flip(at, flip, value, now)
        if instant is not None:
            found.append(instant)
    return found


async def _anniversary_due(
    env: RefreshEnv, schema: GraphSchema, timed: Timed, leaf: w.TimeLeaf, now: dt.datetime
) -> list[dt.datetime]:
    held = await stored.stored_days(env.graph, leaf)
    if not held:
        return []
    tz = timed.segment.timezone
    bound = w.bind(timed.tree, schema, tz, now)
    days = w.month_days(w.condition_at(bound, leaf))
    for midnight in w.midnights(now, bound.timezone):  # anniversary windows move at local midnight
        moved = w.month_days(w.condition_at(w.bind(timed.tree, schema, tz, midnight), leaf))
        if (moved ^ days) & held:
            return [midnight]
    return []


async def note_changes(
    redis: ArqRedis, live: LiveSegments, schema: GraphSchema, changes: Iterable[Change]
) -> int:
    """Mark the clock-following segments that read a changed entity for rescheduling (a new
    record may cross a boundary sooner than any before), and wake the clock."""
    entities = {c.entity for c in changes}
    stale = [
        segment_id
        for segment_id, timed in timed_segments(live, schema).items()
        if any(e.name in entities for leaf in timed.leaves for e in leaf.chain.entities)
    ]
    if stale:
        await sure(redis.sadd(STALE, *stale))
        await wake_clock(redis)
    return len(stale)


async def wake_clock(redis: ArqRedis) -> None:
    """A clock run as soon as a worker is free, unless one is queued already."""
    if await redis.set(PENDING, "1", nx=True, px=LOCK_MS):
        await redis.enqueue_job(CLOCK_TASK, _job_id=f"live:clock:{uuid.uuid4().hex}")


async def wake_at(redis: ArqRedis, when: dt.datetime) -> None:
    """A clock run at `when` (one job per instant, however often asked)."""
    job_id = f"live:clock:at:{micros(when)}"
    await redis.enqueue_job(CLOCK_TASK, _job_id=job_id, _defer_until=when)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def micros(when: dt.datetime) -> int:
    """Scores are whole microseconds since the epoch: exact in a Redis score (below 2**53)."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1)


def instant(score: float) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(score))


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
