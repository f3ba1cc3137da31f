"""The segment bound to a schema: what the printer and the reference evaluator consume.

Every name is a schema object, every value is typed and concrete (relative dates already
resolved against `now` in the segment's time zone), every path is explicit. A consumer needs no
schema look-ups, no calendar logic and no parsing: each node describes itself.

Truth: a condition is TRUE, FALSE or UNKNOWN (Kleene logic, exactly Cypher's). An attribute
condition is UNKNOWN when the attribute is null (for aggregates: when the aggregate is null);
`BoundNot` of UNKNOWN is UNKNOWN; a record is selected only when the condition is TRUE.
`BoundIsEmpty`, `BoundRelated`, `BoundSegmentRef` and `BoundSequence` are never UNKNOWN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from grammar.ast import AggFunc, CompareOp, Quantifier, SetOp, TextOp, TimeUnit
from graph_schema import Attribute, AttrType, Entity, Path, Relationship, Step

Value = str | int | float | bool | dt.date | dt.datetime
"""A typed value. `dt.datetime` values are always timezone-aware (UTC); `dt.date` values are
plain dates. Checked against the attribute type: a bound comparison never mixes types."""


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundProperty:
    """An attribute of the current record, or of a relationship on the enclosing path.

    `step is None`: the attribute of `entity`, the record the enclosing block is about (the
    profile at the top level). Otherwise `relationship` is the relationship of
    `BoundPath.steps[step]` of the nearest enclosing `BoundRelated`/`BoundAggregate`/event.
    """

    attribute: Attribute
    entity: Entity
    step: int | None = None
    relationship: Relationship | None = None

    @property
    def type(self) -> AttrType:
        return self.attribute.type


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundPath:
    """The walk from the enclosing record (`origin`) to the related records (`target`)."""

    origin: Entity
    target: Entity
    steps: tuple[Step, ...]
    entities: tuple[Entity, ...]  # origin, each intermediate entity, target (len(steps) + 1)

    @property
    def path(self) -> Path:
        return Path(self.origin.name, self.steps)

    def describe(self) -> str:
        return self.path.describe()


# ---- attribute conditions (UNKNOWN when the attribute is null) ---------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundCompare:
    """`prop op value`. Strings compare exactly (case-sensitive, code point order)."""

    prop: BoundProperty
    op: CompareOp
    value: Value


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundBetween:
    """low <= prop <= high."""

    prop: BoundProperty
    low: Value
    high: Value


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundInList:
    """prop is one of values (negated: none of them). Values are never null."""

    prop: BoundProperty
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundText:
    """contains / starts with / ends with. When not case_sensitive, both sides are lowercased
    (Python `str.lower`, Cypher `toLower`); `value` is stored as the user wrote it."""

    prop: BoundProperty
    op: TextOp
    value: str
    case_sensitive: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundRegex:
    """The whole value matches `pattern` (Cypher `=~`, Python `re.fullmatch`)."""

    prop: BoundProperty
    pattern: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundWindow:
    """start <= prop < end. Both ends have the attribute's own type: dates for a date
    attribute, aware UTC datetimes for a datetime attribute (see `grammar.timewindow`)."""

    prop: BoundProperty
    start: dt.date | dt.datetime
    end: dt.date | dt.datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundAnniversary:
    """month * 100 + day of the (date) attribute is in `month_days`; Feb 29 is included in
    non-leap years when Feb 28 is (see `grammar.timewindow.anniversary_days`)."""

    prop: BoundProperty
    month_days: tuple[int, ...]


# ---- two-valued conditions ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundIsEmpty:
    """The attribute is null (negated: it is not null). Empty strings are values."""

    prop: BoundProperty
    negated: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundRelated:
    """Quantified over the distinct records at the end of `path`, each tested on its own
    (same-record semantics). ANY: some record makes `condition` TRUE; NO: none does; ALL: none
    fails to (UNKNOWN counts as failing; vacuously TRUE with no records). `condition` None
    means TRUE (any related record)."""

    quantifier: Quantifier
    path: BoundPath
    condition: BoundCondition | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundAggregate:
    """`func(prop)` over the distinct related records where `condition` is TRUE, then
    `aggregate op value`. COUNT counts records (prop None); SUM of no values is 0; AVG, MIN, MAX
    of none, or of only nulls, are null (so the comparison is UNKNOWN). Nulls are skipped."""

    func: AggFunc
    path: BoundPath
    prop: BoundProperty | None
    condition: BoundCondition | None
    op: CompareOp
    value: Value


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundSegmentRef:
    """The profile is a member of the active version of the stored segment `name`."""

    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundEvent:
    """Records at the end of `path` (from the profile) with condition TRUE and time not null."""

    path: BoundPath
    time: BoundProperty
    condition: BoundCondition | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundSpan:
    """A span of time added to an event time (see `grammar.timewindow.shift`)."""

    amount: int
    unit: TimeUnit


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundSequence:
    """Some `first` record `a` exists such that ANY: some / NO: no `second` record `b` has
    a.time < b.time and (within is None or b.time <= shift(a.time, within))."""

    first: BoundEvent
    quantifier: Quantifier  # ANY or NO
    second: BoundEvent
    within: BoundSpan | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundAnd:
    items: tuple[BoundCondition, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundOr:
    items: tuple[BoundCondition, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundNot:
    item: BoundCondition


BoundCondition = (
    BoundCompare
    | BoundBetween
    | BoundInList
    | BoundText
    | BoundRegex
    | BoundWindow
    | BoundAnniversary
    | BoundIsEmpty
    | BoundRelated
    | BoundAggregate
    | BoundSegmentRef
    | BoundSequence
    | BoundAnd
    | BoundOr
    | BoundNot
)


# ---- groups and the segment --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundGroup:
    """The profiles for which `condition` is TRUE."""

    condition: BoundCondition


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundSetOperation:
    """Set algebra on group results (profiles, never UNKNOWN)."""

    op: SetOp
    left: BoundSetExpr
    right: BoundSetExpr


BoundSetExpr = BoundGroup | BoundSetOperation


@dataclass(frozen=True, kw_only=True, slots=True)
class BoundSegment:
    audience: Entity
    timezone: str  # IANA name
    now: dt.datetime  # aware, UTC: the instant every relative window was resolved against
    body: BoundSetExpr
    referenced_segments: tuple[str, ...] = ()  # sorted, distinct
