"""Literal values and time windows of the parse tree: the Transformer half that checks values
the grammar accepts but that are not valid (Feb 30, an unknown escape, a number out of range)."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from lark import Token

from grammar import ast as a
from grammar import limits
from grammar.errors import ErrorCode, SegmentError, Span
from grammar.inline import Method
from grammar.inline import Node as Meta


def rule_methods(cls: type) -> dict[str, Method]:
    """Every rule method of `cls` by rule name: its public functions (aliases included)."""
    found: dict[str, Method] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if callable(value) and not name.startswith("_"):
                found[name] = value
    return found


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "`": "`"}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)


class LiteralBuilder:
    """Rule methods receive (meta, children): where the rule matched, and what its children
    built (tokens for terminals). It holds no state, so one instance serves every parse."""

    def _span(self, meta: Meta) -> Span | None:
        return meta.span()

    def _token_span(self, token: Token) -> Span:
        start = token.start_pos or 0
        line, column = token.line or 1, token.column or 1
        return Span(offset=start, end=token.end_pos or start, line=line, column=column)

    def _invalid(self, message: str, token: Token) -> SegmentError:
        return SegmentError(ErrorCode.INVALID_LITERAL, message, self._token_span(token))

    def _string_token(self, token: Token) -> a.StringLiteral:
        if len(token) > limits.MAX_STRING_LENGTH:
            raise limits.exceeded(
                "characters in a string", limits.MAX_STRING_LENGTH, self._token_span(token)
            )
        return a.StringLiteral(value=self._unescape(token), span=self._token_span(token))

    # ---- literals ----

    def string(self, meta: Meta, children: list[Any]) -> a.StringLiteral:
        return self._string_token(children[0])

    def _unescape(self, token: Token) -> str:
        def replace(match: re.Match[str]) -> str:
            code = match.group(1)
            if len(code) == 5:
                return chr(int(code[1:], 16))
            if code not in _ESCAPES:
                raise self._invalid(f"Unknown escape `\\{code}` in a string.", token)
            return _ESCAPES[code]

        return _ESCAPE.sub(replace, str(token)[1:-1])

    def _number(self, token: Token) -> int | float:
        text = str(token)
        if "." in text:
            value = float(text)
            if not math.isfinite(value) or len(text) > 40:
                raise self._invalid(f"The number {text[:40]} is out of range.", token)
            return value
        if len(text) > 20 or abs(int(text)) > limits.MAX_INT:
            raise self._invalid(f"The number {text[:40]} is out of range.", token)
        return int(text)

    def _amount(self, token: Token, unit: a.TimeUnit) -> int:
        value = self._number(token)
        if not isinstance(value, int) or value < 0:
            raise self._invalid(f"Write a whole number of {unit.value}s, not {token}.", token)
        if value > limits.max_amount(unit.value):
            raise limits.exceeded(
                f"{unit.value}s", limits.max_amount(unit.value), self._token_span(token)
            )
        return value

    def number(self, meta: Meta, children: list[Any]) -> a.NumberLiteral:
        return a.NumberLiteral(value=self._number(children[0]), span=self._span(meta))

    def true(self, meta: Meta, children: list[Any]) -> a.BooleanLiteral:
        return a.BooleanLiteral(value=True, span=self._span(meta))

    def false(self, meta: Meta, children: list[Any]) -> a.BooleanLiteral:
        return a.BooleanLiteral(value=False, span=self._span(meta))

    def date(self, meta: Meta, children: list[Any]) -> a.DateLiteral:
        try:
            value = dt.date.fromisoformat(str(children[0]))
        except ValueError:
            raise self._invalid(f"{children[0]} is not a valid date.", children[0]) from None
        return a.DateLiteral(value=value, span=self._span(meta))

    def datetime(self, meta: Meta, children: list[Any]) -> a.DateTimeLiteral:
        try:
            value = dt.datetime.fromisoformat(str(children[0]))
        except ValueError:
            raise self._invalid(f"{children[0]} is not a valid datetime.", children[0]) from None
        return a.DateTimeLiteral(value=value, span=self._span(meta))

    def _relative(self, meta: Meta, children: list[Any], future: bool) -> a.RelativeLiteral:
        unit = next(c for c in children if isinstance(c, a.TimeUnit))
        amount = self._amount(children[0], unit)
        return a.RelativeLiteral(amount=amount, unit=unit, future=future, span=self._span(meta))

    def ago(self, meta: Meta, children: list[Any]) -> a.RelativeLiteral:
        return self._relative(meta, children, future=False)

    def from_now(self, meta: Meta, children: list[Any]) -> a.RelativeLiteral:
        return self._relative(meta, children, future=True)

    def value_list(self, meta: Meta, children: list[Any]) -> tuple[a.Literal, ...]:
        values = tuple(c for c in children if not isinstance(c, Token))
        if len(values) > limits.MAX_LIST_VALUES:
            raise limits.exceeded("values in a list", limits.MAX_LIST_VALUES, self._span(meta))
        return values

    # ---- windows ----

    def _rolling(self, relation: a.Relation, meta: Meta, children: list[Any]) -> a.RollingWindow:
        unit = next(c for c in children if isinstance(c, a.TimeUnit))
        number = next(c for c in children if isinstance(c, Token) and c.type == "NUMBER")
        amount = self._amount(number, unit)
        return a.RollingWindow(relation=relation, amount=amount, unit=unit, span=self._span(meta))

    def rolling_last(self, meta: Meta, children: list[Any]) -> a.RollingWindow:
        return self._rolling(a.Relation.LAST, meta, children)

    def rolling_next(self, meta: Meta, children: list[Any]) -> a.RollingWindow:
        return self._rolling(a.Relation.NEXT, meta, children)

    def _period(self, relation: a.Relation, meta: Meta, children: list[Any]) -> a.CalendarWindow:
        unit = next(c for c in children if isinstance(c, a.TimeUnit))
        return a.CalendarWindow(relation=relation, unit=unit, span=self._span(meta))

    def this_period(self, meta: Meta, children: list[Any]) -> a.CalendarWindow:
        return self._period(a.Relation.THIS, meta, children)

    def last_period(self, meta: Meta, children: list[Any]) -> a.CalendarWindow:
        return self._period(a.Relation.LAST, meta, children)

    def next_period(self, meta: Meta, children: list[Any]) -> a.CalendarWindow:
        return self._period(a.Relation.NEXT, meta, children)
