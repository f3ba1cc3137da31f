"""The segment as written: frozen nodes named after grammar rules, each with its source span.

Names here are the user's strings; nothing is resolved against a schema yet (see `validate`).
`span` never takes part in equality, so tests compare whole trees built by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from grammar.errors import Span


class CompareOp(Enum):
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="


class TextOp(Enum):
    CONTAINS = "contains"
    STARTS_WITH = "starts with"
    ENDS_WITH = "ends with"


class Quantifier(Enum):
    ANY = "any"
    NO = "no"
    ALL = "all"


class AggFunc(Enum):
    COUNT = "count"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"


class SetOp(Enum):
    UNION = "union"
    INTERSECT = "intersect"
    EXCEPT = "except"


class TimeUnit(Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Relation(Enum):
    """Where a calendar period or rolling window lies relative to now."""

    LAST = "last"
    THIS = "this"
    NEXT = "next"


class Day(Enum):
    TODAY = "today"
    YESTERDAY = "yesterday"
    TOMORROW = "tomorrow"


# ---- identifiers and literals ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Identifier:
    name: str
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Dotted:
    """`name` or `qualifier.name` (an entity's attribute, or a relationship's inside a block)."""

    name: Identifier
    qualifier: Identifier | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class StringLiteral:
    value: str
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class NumberLiteral:
    value: int | float
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class BooleanLiteral:
    value: bool
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class DateLiteral:
    value: dt.date
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class DateTimeLiteral:
    """Naive when written without an offset: then it is read in the segment's time zone."""

    value: dt.datetime
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class RelativeLiteral:
    """`30 days ago` (amount < 0 in effect) or `2 weeks from now`."""

    amount: int
    unit: TimeUnit
    future: bool
    span: Span | None = field(default=None, compare=False)


Literal = (
    StringLiteral | NumberLiteral | BooleanLiteral | DateLiteral | DateTimeLiteral | RelativeLiteral
)


# ---- time windows ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class RollingWindow:
    """`last 90 days` / `next 2 weeks`: from now back (or forward) by amount units."""

    relation: Relation  # LAST or NEXT
    amount: int
    unit: TimeUnit
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarWindow:
    """`this month`, `last quarter`, `next year`: a whole calendar period."""

    relation: Relation
    unit: TimeUnit  # WEEK, MONTH, QUARTER or YEAR
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class DayWindow:
    day: Day
    span: Span | None = field(default=None, compare=False)


Window = RollingWindow | CalendarWindow | DayWindow


# ---- conditions --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    attribute: Dotted
    op: CompareOp
    value: Literal
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Between:
    """Inclusive at both ends."""

    attribute: Dotted
    low: Literal
    high: Literal
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class InList:
    attribute: Dotted
    values: tuple[Literal, ...]
    negated: bool = False
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class TextMatch:
    attribute: Dotted
    op: TextOp
    value: StringLiteral
    case_sensitive: bool = False
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class RegexMatch:
    attribute: Dotted
    pattern: StringLiteral
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class IsEmpty:
    attribute: Dotted
    negated: bool = False
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class IsBoolean:
    attribute: Dotted
    value: bool
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class InWindow:
    attribute: Dotted
    window: Window
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Anniversary:
    """The attribute's month and day fall in the window, whatever the year."""

    attribute: Dotted
    window: Window
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Related:
    """`any Order (...)`, `no Order (...)`, `all Order (...)`: one related record at a time."""

    quantifier: Quantifier
    entity: Identifier
    via: tuple[Identifier, ...] = ()
    condition: Condition | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Aggregate:
    """`count Order (...) >= 3` or `sum Order.total (...) > 1000`."""

    func: AggFunc
    entity: Identifier
    attribute: Identifier | None  # None for count
    via: tuple[Identifier, ...] = ()
    condition: Condition | None = None
    op: CompareOp
    value: Literal
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class InSegment:
    name: Identifier
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """One side of a sequence: an entity, optionally its time attribute, path and filter."""

    entity: Identifier
    time: Identifier | None = None
    via: tuple[Identifier, ...] = ()
    condition: Condition | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Within:
    amount: int
    unit: TimeUnit
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Sequence:
    """`first then [any|no] second [within N units]`."""

    first: Event
    quantifier: Quantifier  # ANY or NO
    second: Event
    within: Within | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class And:
    items: tuple[Condition, ...]
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Or:
    items: tuple[Condition, ...]
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class Not:
    item: Condition
    span: Span | None = field(default=None, compare=False)


Predicate = (
    Comparison
    | Between
    | InList
    | TextMatch
    | RegexMatch
    | IsEmpty
    | IsBoolean
    | InWindow
    | Anniversary
    | Related
    | Aggregate
    | InSegment
    | Sequence
)
Condition = And | Or | Not | Predicate


# ---- groups and the segment --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Group:
    condition: Condition
    span: Span | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class SetOperation:
    op: SetOp
    left: SetExpr
    right: SetExpr
    span: Span | None = field(default=None, compare=False)


SetExpr = Group | SetOperation


@dataclass(frozen=True, kw_only=True, slots=True)
class Segment:
    audience: Identifier
    timezone: StringLiteral | None = None
    body: SetExpr
    span: Span | None = field(default=None, compare=False)
