"""The reference evaluator: a bound segment over plain in-memory rows -> the selected profile keys.

A second implementation of the semantics documented in `grammar.bound` (and
docs/query-language.md), written from them and not from the Cypher printer, so that the two can
be checked against each other (tests/grammar/test_differential.py) and so that one profile's
membership can be explained clause by clause (`grammar.explain_membership`).

Truth is Kleene three-valued logic: `True`, `False` or `None` (UNKNOWN). Only TRUE selects.
Related records are reached by walking the dataset's relationships step by step; a record
reached along several walks is one record to quantifiers and aggregates, but a condition on a
relationship attribute is read on the walk that reached it.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, assert_never

from grammar import bound as b
from grammar import timewindow
from grammar.ast import AggFunc, CompareOp, Quantifier, SetOp, TextOp
from graph_schema import Direction, Entity, Step

Key = str | int
Row = Mapping[str, Any]
Truth = bool | None

_COMPARE: dict[CompareOp, Callable[[Any, Any], bool]] = {
    CompareOp.EQ: operator.eq,
    CompareOp.NE: operator.ne,
    CompareOp.LT: operator.lt,
    CompareOp.LE: operator.le,
    CompareOp.GT: operator.gt,
    CompareOp.GE: operator.ge,
}


@dataclass(frozen=True, slots=True)
class Dataset:
    """Records by entity name then key (attributes by name; a missing or None attribute is
    null), and relationships by type: (source key, target key, attributes). Datetimes must be
    timezone-aware; they are compared as instants."""

    entities: Mapping[str, Mapping[Key, Row]]
    relationships: Mapping[str, Sequence[tuple[Key, Key, Row]]] = field(default_factory=dict)

    def records(self, entity: Entity) -> Mapping[Key, Row]:
        return self.entities.get(entity.name, {})


@dataclass(frozen=True, slots=True)
class Scope:
    """The record conditions talk about, and the relationships of the walk that reached it."""

    entity: Entity
    key: Key
    row: Row
    rels: tuple[Row, ...] = ()


class Evaluator:
    """Evaluates conditions for one dataset; the adjacency index is built once and reused."""

    def __init__(self, dataset: Dataset, segments: Mapping[str, frozenset[Key]]) -> None:
        self.dataset = dataset
        self.segments = segments
        self._out: dict[str, dict[Key, list[tuple[Key, Row]]]] = {}
        self._in: dict[str, dict[Key, list[tuple[Key, Row]]]] = {}
        for rel_type, edges in dataset.relationships.items():
            out, into = defaultdict(list), defaultdict(list)
            for source, target, attrs in edges:
                out[source].append((target, attrs))
                into[target].append((source, attrs))
            self._out[rel_type], self._in[rel_type] = dict(out), dict(into)

    # ---- set expressions and groups ----

    def members(self, segment: b.BoundSegment) -> frozenset[Key]:
        return self.set_members(segment.body, segment.audience)

    def set_members(self, node: b.BoundSetExpr, audience: Entity) -> frozenset[Key]:
        match node:
            case b.BoundGroup(condition=cond):
                rows = self.dataset.records(audience)
                return frozenset(k for k, r in rows.items() if self.profile(cond, audience, k, r))
            case b.BoundSetOperation(op=op, left=left, right=right):
                lhs, rhs = self.set_members(left, audience), self.set_members(right, audience)
                return _set_op(op, lhs, rhs)
            case _:
                assert_never(node)

    def profile(self, cond: b.BoundCondition, audience: Entity, key: Key, row: Row) -> bool:
        return self.truth(cond, Scope(audience, key, row)) is True

    # ---- conditions ----

    def truth(self, node: b.BoundCondition, scope: Scope) -> Truth:
        match node:
            case b.BoundAnd(items=items):
                return kleene_and(self.truth(i, scope) for i in items)
            case b.BoundOr(items=items):
                return kleene_or(self.truth(i, scope) for i in items)
            case b.BoundNot(item=item):
                return kleene_not(self.truth(item, scope))
            case b.BoundIsEmpty(prop=prop, negated=negated):
                return (read(prop, scope) is None) is not negated
            case b.BoundRelated():
                return self._related(node, scope)
            case b.BoundAggregate():
                return self._aggregate(node, scope)
            case b.BoundSegmentRef(name=name):
                return scope.key in self.segments.get(name, frozenset())
            case b.BoundSequence():
                return self._sequence(node, scope)
            case _:
                value = read(node.prop, scope)
                return None if value is None else attribute_truth(node, value)

    # ---- related records ----

    def walk(self, path: b.BoundPath, scope: Scope) -> Iterator[Scope]:
        """Every walk along `path` from the scope's record: the scope at each end."""
        ends: list[tuple[Key, tuple[Row, ...]]] = [(scope.key, ())]
        for step, entity in zip(path.steps, path.entities[1:], strict=True):
            rows = self.dataset.records(entity)
            ends = [
                (target, (*rels, attrs))
                for key, rels in ends
                for target, attrs in self._neighbours(step, key)
                if target in rows
            ]
        target_rows = self.dataset.records(path.target)
        for key, rels in ends:
            yield Scope(path.target, key, target_rows[key], rels)

    def _neighbours(self, step: Step, key: Key) -> list[tuple[Key, Row]]:
        index = self._out if step.direction is Direction.OUT else self._in
        return index.get(step.relationship.type, {}).get(key, [])

    def _holds(self, cond: b.BoundCondition | None, scope: Scope) -> bool:
        return cond is None or self.truth(cond, scope) is True

    def _related(self, node: b.BoundRelated, scope: Scope) -> bool:
        held = (self._holds(node.condition, s) for s in self.walk(node.path, scope))
        match node.quantifier:
            case Quantifier.ANY:
                return any(held)
            case Quantifier.NO:
                return not any(held)
            case Quantifier.ALL:  # UNKNOWN fails; vacuously true without related records
                return all(held)
            case _:
                assert_never(node.quantifier)

    def _aggregate(self, node: b.BoundAggregate, scope: Scope) -> Truth:
        records: dict[Key, Row] = {}  # distinct records, whichever walk reached them
        for end in self.walk(node.path, scope):
            if self._holds(node.condition, end):
                records[end.key] = end.row
        result = aggregate(node.func, node.prop, list(records.values()))
        return None if result is None else compare(node.op, result, node.value)

    def _events(self, event: b.BoundEvent, scope: Scope) -> list[Any]:
        """The (non-null) times of the event's records whose condition holds."""
        ends = [s for s in self.walk(event.path, scope) if self._holds(event.condition, s)]
        return [instant(t) for t in (read(event.time, s) for s in ends) if t is not None]

    def _sequence(self, node: b.BoundSequence, scope: Scope) -> bool:
        seconds = self._events(node.second, scope)
        for first in self._events(node.first, scope):
            limit = None
            if node.within is not None:
                limit = instant(timewindow.shift(first, node.within.amount, node.within.unit))
            found = any(first < t and (limit is None or t <= limit) for t in seconds)
            if found is (node.quantifier is Quantifier.ANY):
                return True
        return False


# ---- attribute conditions (the value is never null here) -------------------------------


def attribute_truth(
    node: b.BoundCompare
    | b.BoundBetween
    | b.BoundInList
    | b.BoundText
    | b.BoundRegex
    | b.BoundWindow
    | b.BoundAnniversary,
    value: Any,
) -> bool:
    match node:
        case b.BoundCompare(op=op, value=other):
            return compare(op, value, other)
        case b.BoundBetween(low=low, high=high):
            return compare(CompareOp.GE, value, low) and compare(CompareOp.LE, value, high)
        case b.BoundInList(values=values, negated=negated):
            return any(compare(CompareOp.EQ, value, v) for v in values) is not negated
        case b.BoundText(op=op, value=text, case_sensitive=sensitive):
            return text_match(op, value, text, sensitive)
        case b.BoundRegex(pattern=pattern):
            return regex(pattern).fullmatch(value) is not None
        case b.BoundWindow(start=start, end=end):
            return compare(CompareOp.GE, value, start) and compare(CompareOp.LT, value, end)
        case b.BoundAnniversary(month_days=days):
            return bool(value.month * 100 + value.day in days)
        case _:
            assert_never(node)


def compare(op: CompareOp, left: Any, right: Any) -> bool:
    return bool(_COMPARE[op](ordered(left), ordered(right)))


def ordered(value: Any) -> Any:
    """The value as it orders: datetimes as instants (equal moments in different offsets are
    equal); strings by UTF-16 code units, as Neo4j (Java) orders stored strings and parameters,
    which differs from code point order only between U+E000..U+FFFF and U+10000 and above."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, str):
        return value.encode("utf-16-be", "surrogatepass")
    return value


def instant(value: Any) -> Any:
    return value.astimezone(dt.UTC) if isinstance(value, dt.datetime) else value


def text_match(op: TextOp, value: str, text: str, case_sensitive: bool) -> bool:
    if not case_sensitive:
        value, text = value.lower(), text.lower()
    match op:
        case TextOp.CONTAINS:
            return text in value
        case TextOp.STARTS_WITH:
            return value.startswith(text)
        case TextOp.ENDS_WITH:
            return value.endswith(text)
        case _:
            assert_never(op)


@cache
def regex(pattern: str) -> re.Pattern[str]:
    """ASCII classes and case folding, as Java's default `Pattern` that Cypher's =~ uses."""
    return re.compile(pattern, re.ASCII)


def aggregate(func: AggFunc, prop: b.BoundProperty | None, rows: list[Row]) -> Any:
    """COUNT counts records; the others skip nulls: SUM of nothing is 0, the rest null."""
    if func is AggFunc.COUNT or prop is None:
        return len(rows)
    values = [v for v in (r.get(prop.attribute.name) for r in rows) if v is not None]
    match func:
        case AggFunc.SUM:
            return sum(values)
        case AggFunc.AVG:
            return sum(values) / len(values) if values else None
        case AggFunc.MIN:
            return min(values, key=ordered) if values else None
        case AggFunc.MAX:
            return max(values, key=ordered) if values else None
        case _:
            assert_never(func)


def read(prop: b.BoundProperty, scope: Scope) -> Any:
    """The attribute's value (None when null) on the record, or on a relationship walked."""
    row = scope.row if prop.step is None else scope.rels[prop.step]
    value = row.get(prop.attribute.name)
    if value is None and prop.step is None and prop.attribute.name == scope.entity.key:
        return scope.key
    return value


# ---- three-valued logic and sets --------------------------------------------------------


def kleene_and(values: Iterator[Truth]) -> Truth:
    result: Truth = True
    for value in values:
        if value is False:
            return False
        if value is None:
            result = None
    return result


def kleene_or(values: Iterator[Truth]) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


def kleene_not(value: Truth) -> Truth:
    return None if value is None else not value


def _set_op(op: SetOp, lhs: frozenset[Key], rhs: frozenset[Key]) -> frozenset[Key]:
    match op:
        case SetOp.UNION:
            return lhs | rhs
        case SetOp.INTERSECT:
            return lhs & rhs
        case SetOp.EXCEPT:
            return lhs - rhs
        case _:
            assert_never(op)


def evaluate_segment(
    segment: b.BoundSegment,
    dataset: Dataset,
    *,
    segments: Mapping[str, frozenset[Key]] | None = None,
) -> frozenset[Key]:
    """The keys of the audience's records the segment selects. `segments` gives the members of
    each stored segment the definition refers to (a missing name has none). Raises nothing for
    a well-typed dataset (values of each attribute's type, aware datetimes)."""
    return Evaluator(dataset, segments or {}).members(segment)
