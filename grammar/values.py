"""Typing of literals against attribute types: AST literal -> concrete, typed bound value.

Relative values (`30 days ago`) and date literals compared with datetimes are resolved here,
against `now` in the segment's time zone, so bound values are plain concrete values.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from grammar import ast as a
from grammar import limits, timewindow
from grammar.bound import BoundProperty, Value
from grammar.errors import ErrorCode, SegmentError, Span
from graph_schema import AttrType


@dataclass(frozen=True, slots=True)
class Clock:
    """The evaluation instant and the segment's time zone."""

    now: dt.datetime  # aware UTC
    tz: ZoneInfo


def literal_type(value: a.Literal) -> str:
    match value:
        case a.StringLiteral():
            return "string"
        case a.NumberLiteral(value=int()):
            return "integer"
        case a.NumberLiteral():
            return "float"
        case a.BooleanLiteral():
            return "boolean"
        case a.DateLiteral():
            return "date"
        case a.DateTimeLiteral():
            return "datetime"
        case a.RelativeLiteral():
            return "relative date"


def mismatch(what: str, expected: AttrType | str, got: str, span: Span | None) -> SegmentError:
    return SegmentError(
        ErrorCode.TYPE_MISMATCH,
        f"Type mismatch: {what} expects {_article(str(expected))}, got {got}.",
        span,
    )


def _article(type_name: str) -> str:
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


def describe(prop: BoundProperty) -> str:
    owner = prop.relationship.type if prop.relationship else prop.entity.name
    return f"{owner}.{prop.attribute.name} ({prop.type.value})"


def typed_value(value: a.Literal, attr_type: AttrType, what: str, clock: Clock) -> Value:
    """The literal as a value of `attr_type`. Raises TYPE_MISMATCH naming both types."""
    found = _convert(value, attr_type, clock)
    if found is None:
        raise mismatch(what, attr_type, _article(literal_type(value)), value.span)
    return found


def _convert(value: a.Literal, attr_type: AttrType, clock: Clock) -> Value | None:
    match value, attr_type:
        case a.StringLiteral(value=text), AttrType.STRING:
            return text
        case a.NumberLiteral(value=number), AttrType.INTEGER:
            return number
        case a.NumberLiteral(value=number), AttrType.FLOAT:
            return float(number)
        case a.BooleanLiteral(value=flag), AttrType.BOOLEAN:
            return flag
        case a.DateLiteral(value=day), AttrType.DATE:
            return day
        case a.DateLiteral(value=day), AttrType.DATETIME:
            return timewindow.start_of_day(day, clock.tz)
        case a.DateTimeLiteral(value=moment), AttrType.DATETIME:
            return timewindow.local_instant(moment, clock.tz)
        case a.RelativeLiteral(), AttrType.DATE | AttrType.DATETIME:
            return _relative(value, attr_type, clock)
    return None


def _relative(value: a.RelativeLiteral, attr_type: AttrType, clock: Clock) -> Value | None:
    if value.unit is a.TimeUnit.HOUR and attr_type is AttrType.DATE:
        return None
    try:
        return timewindow.resolve_relative(
            value.amount, value.unit, value.future, attr_type, clock.now, clock.tz
        )
    except OverflowError:
        raise out_of_calendar(value.span) from None


def out_of_calendar(span: Span | None) -> SegmentError:
    return SegmentError(
        ErrorCode.LIMIT_EXCEEDED, "The date falls outside the supported calendar.", span
    )


def window_bounds(
    window: a.Window, prop: BoundProperty, what: str, clock: Clock
) -> tuple[dt.date, dt.date]:
    """[start, end) of a window for a temporal attribute (see `grammar.timewindow`)."""
    if not prop.type.is_temporal:
        raise mismatch(what, "date or datetime", "compared with a time window", window.span)
    hours = isinstance(window, a.RollingWindow) and window.unit is a.TimeUnit.HOUR
    if hours and prop.type is AttrType.DATE:
        raise mismatch(what, AttrType.DATE, "a window in hours", window.span)
    try:
        return timewindow.resolve_window(window, prop.type, clock.now, clock.tz)
    except OverflowError:
        raise out_of_calendar(window.span) from None


def anniversary_days(
    window: a.Window, prop: BoundProperty, what: str, clock: Clock
) -> tuple[int, ...]:
    if prop.type is not AttrType.DATE:
        raise mismatch(what, "date", f"an anniversary on {_article(prop.type.value)}", window.span)
    window_bounds(window, prop, what, clock)  # the same checks and limits
    return timewindow.anniversary_days(window, clock.now, clock.tz)


# Nested repetition such as (a+)+ can take exponential time in Java's regex engine.
_NESTED_REPEAT = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")


_PYTHON_ONLY = re.compile(r"\(\?P|\{,")
# Python reads a `{` that does not start a repetition {n}, {n,} or {n,m} as a literal; Java
# refuses the whole pattern ("Illegal repetition"), so Neo4j would fail at run time.
_REPETITION = re.compile(r"\{\d+(?:,\d*)?\}")


def _outside_common_dialect(text: str) -> str | None:
    """Syntax that Python's `re` and Java's regex (Neo4j `=~`) read differently or only one
    accepts: named groups `(?P<`, `{,n}`, and inside a class `&&` (Java: intersection) or an
    unescaped `[` (Java: nested class, POSIX `[[:alpha:]]`)."""
    found = _PYTHON_ONLY.search(text)
    if found:
        return f"`{found.group()}`"
    in_class, escaped = False, False
    for index, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class and (ch == "[" or text.startswith("&&", index)):
            return "`[` or `&&` inside a character class"
        elif ch == "{" and not in_class and not _REPETITION.match(text, index):
            return "`{` that is not a repetition such as {2} or {1,3} (write `\\{`)"
        elif ch == "[" and not in_class:
            in_class = True
            if text.startswith("]", index + 1) or text.startswith("^]", index + 1):
                return "`]` first in a character class"
        elif ch == "]":
            in_class = False
    return None


def check_regex(pattern: a.StringLiteral) -> str:
    """Raises INVALID_REGEX for a pattern that does not compile, or could backtrack badly."""
    text = pattern.value
    if len(text) > limits.MAX_REGEX_LENGTH:
        raise limits.exceeded(
            "characters in a regular expression", limits.MAX_REGEX_LENGTH, pattern.span
        )
    try:
        re.compile(text)
    except (re.error, RecursionError, OverflowError) as exc:
        raise SegmentError(
            ErrorCode.INVALID_REGEX, f"Invalid regular expression: {exc}.", pattern.span
        ) from None
    dialect = _outside_common_dialect(text)
    if dialect:
        raise SegmentError(
            ErrorCode.INVALID_REGEX,
            f"{dialect} reads differently in Neo4j (Java) and here; rewrite the pattern.",
            pattern.span,
        )
    if _NESTED_REPEAT.search(text):
        raise SegmentError(
            ErrorCode.INVALID_REGEX,
            "Nested repetition such as (a+)+ can make matching very slow; simplify the pattern.",
            pattern.span,
        )
    return portable_dots(text)


# Java's `.` also stops at \r, \u0085, \u2028 and \u2029; Python's only at \n. Spelling the
# dot out gives both engines (Neo4j and the reference evaluator) the same meaning.
_DOT = "[^\\n\\r\\u0085\\u2028\\u2029]"


def portable_dots(text: str) -> str:
    """`text` with every unescaped `.` outside a character class replaced by `_DOT`."""
    out, in_class, escaped = [], False, False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "." and not in_class:
            out.append(_DOT)
            continue
        out.append(ch)
    return "".join(out)
