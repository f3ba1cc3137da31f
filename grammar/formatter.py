"""AST -> canonical text. `format_ast(parse_segment(format_ast(t)))` equals `format_ast(t)`, and
parsing the output gives back an equal tree: the formatter only chooses spelling and layout.

Canonical choices: lowercase keywords, double-quoted strings, `before`/`after` for time
comparisons, plural units, one top-level `and` per line, each set operator on its own line.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from typing import assert_never

from grammar import ast as a

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Keywords that can start a condition, where a name may also stand: these names need backticks.
_RESERVED = frozenset(
    {"not", "any", "no", "all", "count", "sum", "avg", "min", "max", "in", "where", "segment"}
)
_SET_PRECEDENCE = {a.SetOp.UNION: 1, a.SetOp.EXCEPT: 1, a.SetOp.INTERSECT: 2}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_ast(segment: a.Segment) -> str:
    """Canonical text of a segment (ends with a newline)."""
    head = f"segment {ident(segment.audience)}"
    if segment.timezone is not None:
        head += f" timezone {string(segment.timezone.value)}"
    return f"{head}\n{_set_expr(segment.body, 0)}\n"


def ident(name: a.Identifier) -> str:
    text = name.name
    if _PLAIN.match(text) and text.casefold() not in _RESERVED:
        return text
    return "`" + text.replace("`", "``") + "`"


def string(value: str) -> str:
    def escape(ch: str) -> str:
        if ch in _ESCAPES:
            return _ESCAPES[ch]
        return f"\\u{ord(ch):04x}" if ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 else ch

    # Characters beyond the BMP have no \uXXXX form here; they are printed as themselves.
    return '"' + "".join(escape(ch) for ch in value) + '"'


def _number(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = format(decimal.Decimal(repr(value)), "f")
    return text if "." in text else text + ".0"


def _units(amount: int, unit: a.TimeUnit) -> str:
    return f"{amount} {unit.value}{'' if amount == 1 else 's'}"


def literal(value: a.Literal) -> str:
    match value:
        case a.StringLiteral(value=text):
            return string(text)
        case a.NumberLiteral(value=number):
            return _number(number)
        case a.BooleanLiteral(value=flag):
            return "true" if flag else "false"
        case a.DateLiteral(value=day):
            return day.isoformat()
        case a.DateTimeLiteral(value=moment):
            return _datetime(moment)
        case a.RelativeLiteral(amount=amount, unit=unit, future=future):
            return f"{_units(amount, unit)} {'from now' if future else 'ago'}"
        case _:
            assert_never(value)


def _datetime(moment: dt.datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def window(value: a.Window) -> str:
    """`in last 90 days`, `in this month`, `is today` (with its leading keyword)."""
    match value:
        case a.RollingWindow(relation=relation, amount=amount, unit=unit):
            return f"in {relation.value} {_units(amount, unit)}"
        case a.CalendarWindow(relation=relation, unit=unit):
            return f"in {relation.value} {unit.value}"
        case a.DayWindow(day=day):
            return f"is {day.value}"
        case _:
            assert_never(value)


def _dotted(attr: a.Dotted) -> str:
    if attr.qualifier is None:
        return ident(attr.name)
    return f"{ident(attr.qualifier)}.{ident(attr.name)}"


def _set_expr(node: a.SetExpr, parent: int) -> str:
    match node:
        case a.Group(condition=cond):
            return "where " + _top_condition(cond)
        case a.SetOperation(op=op, left=left, right=right):
            level = _SET_PRECEDENCE[op]
            text = f"{_set_expr(left, level)}\n{op.value}\n{_set_expr(right, level + 1)}"
            return f"({text})" if level < parent else text
        case _:
            assert_never(node)


def _top_condition(cond: a.Condition) -> str:
    if isinstance(cond, a.And):
        return "\n  and ".join(condition(item, in_and=True) for item in cond.items)
    return condition(cond)


def condition(node: a.Condition, *, in_and: bool = False) -> str:
    match node:
        case a.And(items=items):
            text = " and ".join(condition(i, in_and=True) for i in items)
            return f"({text})" if in_and else text
        case a.Or(items=items):
            text = " or ".join(_in_or(i) for i in items)
            return f"({text})" if in_and else text
        case a.Not(item=item):
            inner = condition(item)
            return f"not ({inner})" if isinstance(item, a.And | a.Or) else f"not {inner}"
        case _:
            return _predicate(node)


def _in_or(node: a.Condition) -> str:
    # Parentheses keep a nested `or` its own node; around `and` they are for the reader.
    return f"({condition(node)})" if isinstance(node, a.And | a.Or) else condition(node)


def _block(cond: a.Condition | None) -> str:
    return "" if cond is None else f" ({condition(cond)})"


def _via(names: tuple[a.Identifier, ...]) -> str:
    return f" via {', '.join(ident(n) for n in names)}" if names else ""


def _predicate(node: a.Predicate) -> str:
    match node:
        case a.Comparison(attribute=attr, op=op, value=value):
            return f"{_dotted(attr)} {_comparison_op(op, value)} {literal(value)}"
        case a.Between(attribute=attr, low=low, high=high):
            return f"{_dotted(attr)} between {literal(low)} and {literal(high)}"
        case a.InList(attribute=attr, values=values, negated=negated):
            items = ", ".join(literal(v) for v in values)
            return f"{_dotted(attr)} {'not in' if negated else 'in'} ({items})"
        case a.TextMatch(attribute=attr, op=op, value=value, case_sensitive=sensitive):
            suffix = " case sensitive" if sensitive else ""
            return f"{_dotted(attr)} {op.value} {string(value.value)}{suffix}"
        case a.RegexMatch(attribute=attr, pattern=pattern):
            return f"{_dotted(attr)} matches {string(pattern.value)}"
        case a.IsEmpty(attribute=attr, negated=negated):
            return f"{_dotted(attr)} is {'not ' if negated else ''}empty"
        case a.IsBoolean(attribute=attr, value=flag):
            return f"{_dotted(attr)} is {'true' if flag else 'false'}"
        case a.InWindow(attribute=attr, window=w):
            return f"{_dotted(attr)} {window(w)}"
        case a.Anniversary(attribute=attr, window=w):
            return f"{_dotted(attr)} anniversary {window(w)}"
        case _:
            return _structural(node)


def _comparison_op(op: a.CompareOp, value: a.Literal) -> str:
    temporal = isinstance(value, a.DateLiteral | a.DateTimeLiteral | a.RelativeLiteral)
    if temporal and op is a.CompareOp.LT:
        return "before"
    if temporal and op is a.CompareOp.GT:
        return "after"
    return op.value


def _structural(node: a.Predicate) -> str:
    match node:
        case a.Related(quantifier=q, entity=entity, via=via, condition=cond):
            return f"{q.value} {ident(entity)}{_via(via)}{_block(cond)}"
        case a.Aggregate(func=func, entity=entity, attribute=attr, via=via, condition=cond):
            target = ident(entity) if attr is None else f"{ident(entity)}.{ident(attr)}"
            tail = f" {_comparison_op(node.op, node.value)} {literal(node.value)}"
            return f"{func.value} {target}{_via(via)}{_block(cond)}{tail}"
        case a.InSegment(name=name):
            return f"in segment {ident(name)}"
        case a.Sequence(first=first, quantifier=q, second=second, within=within):
            tail = "" if within is None else f" within {_units(within.amount, within.unit)}"
            return f"{_event(first)} then {q.value} {_event(second)}{tail}"
    raise AssertionError(f"unhandled predicate {type(node).__name__}")


def _event(event: a.Event) -> str:
    target = ident(event.entity)
    if event.time is not None:
        target += f".{ident(event.time)}"
    return f"{target}{_via(event.via)}{_block(event.condition)}"
