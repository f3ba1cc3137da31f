"""The time windows of a definition, and the next instant at which one moves past a value.

A compiled definition resolves every relative date (`last 30 days`, `30 days ago`, `birthDate
anniversary in next 7 days`) against one `now`. Binding the same tree at two instants far
apart shows which conditions follow the clock: the ones whose resolved values differ (the tree
has the same shape at any `now`, so a condition is known by its position). For each, the
resolved values are boundaries `f(t)` that only move forward with `t`; a stored value `v`
changes sides when `f(t)` passes it, at an instant found by bisection over the binder itself,
so every calendar rule (months, DST, week starts) is the grammar's own.

Pure: no I/O. `server.live.clock` reads stored values and keeps the schedule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum

from grammar import ast as a
from grammar import bound as b
from grammar.ast import CompareOp
from grammar.neighbourhood import Chain
from grammar.timewindow import local_today, start_of_day, zone
from grammar.validate import validate_segment
from graph_schema import GraphSchema

Bound = dt.date | dt.datetime
# Far enough for every window to move (a year and more, plus odd hours and minutes), and the
# horizon of a schedule: a condition that changes nobody within it is looked at again then.
PROBE = dt.timedelta(days=400, hours=1, minutes=1)
HORIZON = dt.timedelta(days=400)
_US = dt.timedelta(microseconds=1)


class Flip(Enum):
    """When a stored value `v` changes sides of a boundary `f`."""

    PASSED = "passed"  # when f(t) > v: `v >= f` (window start) or `v < f` (window end)
    REACHED = "reached"  # when f(t) >= v: `v > f` or `v <= f`


@dataclass(frozen=True, slots=True)
class TimeLeaf:
    """A condition that follows the clock, and where its attribute lives."""

    position: int  # among the conditions `_conditions` walks, the same at any `now`
    chain: Chain  # from the audience to the record holding the attribute
    prop: b.BoundProperty | None  # None for conditions on no attribute (blocks, and/or)
    rel_step: int | None  # the chain step whose relationship holds the attribute, if any


@dataclass(frozen=True, slots=True)
class Boundary:
    index: int  # which of the condition's resolved values
    flips: frozenset[Flip]


def bind(tree: a.Segment, schema: GraphSchema, timezone: str, now: dt.datetime) -> b.BoundSegment:
    """Raises SegmentError when the definition no longer binds (the schema changed)."""
    return validate_segment(tree, schema, now=now, timezone=timezone)


def time_leaves(
    tree: a.Segment, schema: GraphSchema, timezone: str, now: dt.datetime
) -> tuple[TimeLeaf, ...]:
    """The conditions whose resolved values depend on `now`."""
    early = _conditions(bind(tree, schema, timezone, now))
    late = _conditions(bind(tree, schema, timezone, now + PROBE))
    pairs = zip(early, late, strict=True)
    return tuple(leaf for (leaf, x), (_, y) in pairs if leaf.prop is not None and _moves(x, y))


def condition_at(bound: b.BoundSegment, leaf: TimeLeaf) -> b.BoundCondition:
    return _conditions(bound)[leaf.position][1]


def values(node: b.BoundCondition) -> tuple[Bound, ...]:
    """The resolved values of a condition that follows the clock (none for anniversaries)."""
    match node:
        case b.BoundWindow(start=start, end=end):
            return (start, end)
        case b.BoundBetween(low=low, high=high):
            return _temporal(low, high)
        case b.BoundCompare(value=value) | b.BoundAggregate(value=value):
            return _temporal(value)
        case b.BoundInList(values=items):
            return _temporal(*items)
    return ()


def boundaries(node: b.BoundCondition) -> tuple[Boundary, ...]:
    """How each resolved value flips a stored value: from the comparison's direction."""
    both = frozenset(Flip)
    match node:
        case b.BoundWindow():
            return (Boundary(0, frozenset({Flip.PASSED})), Boundary(1, frozenset({Flip.PASSED})))
        case b.BoundBetween():
            return (Boundary(0, frozenset({Flip.PASSED})), Boundary(1, frozenset({Flip.REACHED})))
        case b.BoundCompare(op=op) | b.BoundAggregate(op=op):
            return (Boundary(0, _flips(op)),)
        case b.BoundInList():
            return tuple(Boundary(i, both) for i in range(len(values(node))))
    return ()


def month_days(node: b.BoundCondition) -> frozenset[int]:
    return frozenset(node.month_days) if isinstance(node, b.BoundAnniversary) else frozenset()


def first_flip(
    at: Callable[[dt.datetime], Bound], flip: Flip, value: Bound, now: dt.datetime
) -> dt.datetime | None:
    """The first instant after `now` (to the microsecond) at which the boundary `at(t)` flips
    `value`; None beyond the horizon. `at` never moves backwards."""

    def flipped(t: dt.datetime) -> bool:
        edge = at(t)
        return bool(edge > value) if flip is Flip.PASSED else bool(edge >= value)

    if flipped(now):
        return None  # already on the far side: this value does not flip again
    lo, hi = 0, HORIZON // _US
    if not flipped(now + hi * _US):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if flipped(now + mid * _US):
            hi = mid
        else:
            lo = mid
    return now + hi * _US


def midnights(now: dt.datetime, timezone: str) -> Iterator[dt.datetime]:
    """Local midnights after `now` within the horizon: when date windows move."""
    tz = zone(timezone)
    today = local_today(now, tz)
    for day in range(1, HORIZON.days + 2):
        yield start_of_day(today + dt.timedelta(days=day), tz)


def _temporal(*items: b.Value) -> tuple[Bound, ...]:
    return tuple(v for v in items if isinstance(v, dt.date))  # datetimes are dates too


def _flips(op: CompareOp) -> frozenset[Flip]:
    match op:
        case CompareOp.LT | CompareOp.GE:
            return frozenset({Flip.PASSED})
        case CompareOp.LE | CompareOp.GT:
            return frozenset({Flip.REACHED})
    return frozenset(Flip)  # = and !=: true only at the value itself


def _moves(early: b.BoundCondition, late: b.BoundCondition) -> bool:
    if isinstance(early, b.BoundAggregate) and isinstance(late, b.BoundAggregate):
        return early.value != late.value  # its own filter is a condition of its own
    if isinstance(early, b.BoundWindow | b.BoundAnniversary):
        return True
    leaf = b.BoundCompare | b.BoundBetween | b.BoundInList
    return isinstance(early, leaf) and early != late


_Found = list[tuple[TimeLeaf, b.BoundCondition]]


def _conditions(bound: b.BoundSegment) -> _Found:
    """Every condition with the chain its attribute is read through, in a fixed order."""
    found: _Found = []
    root = Chain((), (bound.audience,))
    for group in _groups(bound.body):
        _walk(group.condition, root, 0, found)
    return found


def _groups(body: b.BoundSetExpr) -> Iterator[b.BoundGroup]:
    if isinstance(body, b.BoundGroup):
        yield body
    else:
        yield from _groups(body.left)
        yield from _groups(body.right)


def _walk(node: b.BoundCondition, chain: Chain, path_len: int, found: _Found) -> None:
    """`path_len`: steps of the enclosing block's path (relationship attributes index them)."""
    match node:
        case b.BoundAnd(items=items) | b.BoundOr(items=items):
            _add(node, chain, None, path_len, found)
            for item in items:
                _walk(item, chain, path_len, found)
        case b.BoundNot(item=item):
            _add(node, chain, None, path_len, found)
            _walk(item, chain, path_len, found)
        case b.BoundRelated(path=path, condition=inner):
            _add(node, chain, None, path_len, found)
            if inner is not None:
                _walk(inner, chain.then(path), len(path.steps), found)
        case b.BoundAggregate(path=path, condition=inner, prop=prop):
            _add(node, chain.then(path), prop, len(path.steps), found)
            if inner is not None:
                _walk(inner, chain.then(path), len(path.steps), found)
        case b.BoundSequence(first=first, second=second):
            _add(node, chain, None, path_len, found)
            for event in (first, second):
                if event.condition is not None:
                    inner_chain = chain.then(event.path)
                    _walk(event.condition, inner_chain, len(event.path.steps), found)
        case _:
            _add(node, chain, getattr(node, "prop", None), path_len, found)


def _add(
    node: b.BoundCondition, chain: Chain, prop: b.BoundProperty | None, path_len: int,
    found: _Found,
) -> None:  # fmt: skip
    rel_step = None
    if prop is not None and prop.step is not None:
        rel_step = len(chain.steps) - path_len + prop.step
    found.append((TimeLeaf(len(found), chain, prop, rel_step), node))
