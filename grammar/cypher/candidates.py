"""Which top-level clause, if any, a members query should start from instead of the audience.

Today's plan visits every profile and tests each clause on it. When a conjunction at the top of
a single-group definition holds `any <related> (...)` whose condition filters the related
records through their indexes selectively, it is cheaper to find those records first (an index
seek), walk back to their distinct profiles and test the remaining clauses on those candidates
only: a column store scans the small filtered set the same way.

Only positive existence qualifies: the profiles selected are exactly those with at least one
matching related record, so starting from the records loses none. `no`/`all`, counts and other
aggregates, sequences, and anything under `not`/`or` or a set operation keep today's plan (their
members are not contained in the related records' profiles).

There are no statistics at compile time, so "selective" is a documented heuristic: each
index-backed predicate on the related record itself scores (equality / `in`: 3, a closed range
or a time window of a year at most: 2, an open range, a longer window or a boolean equality: 1);
a block needs 2 or more. A filter that keeps most related records (`channel = "web"`, `total
between 0 and 100000`) still drives, at about twice the scan's cost (docs/benchmarks.md). The best
score wins, then the narrowest time window (the shorter window holds fewer records), then
source order. An index-backed condition on the profile scoring as high keeps today's plan: the
planner already seeks the profile's own index then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from grammar import bound as b
from grammar.ast import CompareOp, Quantifier
from graph_schema import AttrType

SELECTIVE = 2  # the least score of a block worth starting from
_EQUALITY = 3
_CLOSED_RANGE = 2
_WEAK = 1
_RANGES = (CompareOp.LT, CompareOp.LE, CompareOp.GT, CompareOp.GE)
_SHORT_WINDOW = 366 * 86400.0  # seconds: a longer window holds most of a typical history
_UNBOUNDED = float("inf")  # seconds of the narrowest window: none


def conjuncts(segment: b.BoundSegment) -> tuple[b.BoundCondition, ...] | None:
    """The top-level conjuncts of a single-group definition (None for set operations)."""
    if not isinstance(segment.body, b.BoundGroup):
        return None
    cond = segment.body.condition
    return cond.items if isinstance(cond, b.BoundAnd) else (cond,)


def driving_clause(items: tuple[b.BoundCondition, ...]) -> int | None:
    """The index of the conjunct to start from, or None to keep the audience scan."""
    best: tuple[int, float, int] | None = None  # (score, -window, -position) maximised
    for position, item in enumerate(items):
        condition = _positive_block(item)
        if condition is None:
            continue
        score, window = _score(_conjuncts_of(condition))
        if score < SELECTIVE:
            continue
        key = (score, -window, -position)
        if best is None or key > best:
            best = key
    if best is None:
        return None
    profile = max((_score((i,))[0] for i in items if not isinstance(i, b.BoundRelated)), default=0)
    if profile >= best[0]:
        return None
    return -best[2]


def _positive_block(item: b.BoundCondition) -> b.BoundCondition | None:
    """The condition of an `any` block that has one."""
    if isinstance(item, b.BoundRelated) and item.quantifier is Quantifier.ANY:
        return item.condition
    return None


def _conjuncts_of(cond: b.BoundCondition) -> Iterable[b.BoundCondition]:
    if isinstance(cond, b.BoundAnd):
        for item in cond.items:
            yield from _conjuncts_of(item)
    else:
        yield cond


def _score(conds: Iterable[b.BoundCondition]) -> tuple[int, float]:
    """Sum of the index-backed predicates' scores, and the narrowest window among them."""
    score, window = 0, _UNBOUNDED
    for cond in conds:
        match cond:
            case b.BoundCompare(prop=prop, op=op) if _indexed(prop):
                if op is CompareOp.EQ:
                    score += _WEAK if prop.type is AttrType.BOOLEAN else _EQUALITY
                elif op in _RANGES:
                    score += _WEAK
            case b.BoundInList(prop=prop, negated=False) if _indexed(prop):
                score += _EQUALITY
            case b.BoundBetween(prop=prop) if _indexed(prop):
                score += _CLOSED_RANGE
            case b.BoundWindow(prop=prop, start=start, end=end) if _indexed(prop):
                span = _span(start, end)
                score += _CLOSED_RANGE if span <= _SHORT_WINDOW else _WEAK
                window = min(window, span)
    return score, window


def _indexed(prop: b.BoundProperty) -> bool:
    """An attribute of the record itself (not of a relationship) with a range index or the
    key's uniqueness constraint."""
    attribute = prop.attribute
    return prop.step is None and (attribute.indexed or attribute.name == prop.entity.key)


def _span(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> float:
    """Seconds between the window's ends (both have the attribute's type)."""
    if isinstance(start, dt.datetime) == isinstance(end, dt.datetime):
        return (end - start).total_seconds()  # type: ignore[operator]
    return _UNBOUNDED
