"""Lark parse tree -> AST. Every node gets the span of the text it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token

from grammar import ast as a
from grammar.errors import ErrorCode, SegmentError
from grammar.inline import Callbacks
from grammar.inline import Node as Meta
from grammar.literals import LiteralBuilder, rule_methods

_UNITS = {
    "hour": a.TimeUnit.HOUR,
    "day": a.TimeUnit.DAY,
    "week": a.TimeUnit.WEEK,
    "month": a.TimeUnit.MONTH,
    "quarter": a.TimeUnit.QUARTER,
    "year": a.TimeUnit.YEAR,
}


@dataclass(frozen=True, slots=True)
class _Via:
    names: tuple[a.Identifier, ...]


@dataclass(frozen=True, slots=True)
class _Block:
    condition: a.Condition


def callbacks() -> Callbacks:
    """The parser's callbacks, building the AST as rules are reduced. They raise SegmentError
    (INVALID_LITERAL, LIMIT_EXCEEDED) for values the grammar accepts but that are not valid
    (Feb 30, an unknown escape, a number out of range) and for segments over the size limits."""
    return Callbacks(_Builder(), rule_methods(_Builder))


def _keywords(children: list[Any]) -> list[str]:
    return [c.type for c in children if isinstance(c, Token)]


def _of(children: list[Any], kind: Any) -> list[Any]:
    return [c for c in children if isinstance(c, kind)]


def _via(children: list[Any]) -> tuple[a.Identifier, ...]:
    found = _of(children, _Via)
    return found[0].names if found else ()


def _block(children: list[Any]) -> a.Condition | None:
    found = _of(children, _Block)
    return found[0].condition if found else None


class _Builder(LiteralBuilder):
    # ---- segment and groups ----

    def start(self, meta: Meta, children: list[Any]) -> a.Segment:
        segment = children[0]
        assert isinstance(segment, a.Segment)
        return segment

    def segment(self, meta: Meta, children: list[Any]) -> a.Segment:
        audience, *rest = _of(children, a.Identifier | a.StringLiteral | a.Group | a.SetOperation)
        tz = _of(rest, a.StringLiteral)
        body = rest[-1]
        return a.Segment(
            audience=audience, timezone=tz[0] if tz else None, body=body, span=self._span(meta)
        )

    def timezone(self, meta: Meta, children: list[Any]) -> a.StringLiteral:
        return self._string_token(children[-1])

    def group(self, meta: Meta, children: list[Any]) -> a.Group:
        return a.Group(condition=children[-1], span=self._span(meta))

    def _set(self, op: a.SetOp, meta: Meta, children: list[Any]) -> a.SetOperation:
        left, right = _of(children, a.Group | a.SetOperation)
        return a.SetOperation(op=op, left=left, right=right, span=self._span(meta))

    def union(self, meta: Meta, children: list[Any]) -> a.SetOperation:
        return self._set(a.SetOp.UNION, meta, children)

    def intersect(self, meta: Meta, children: list[Any]) -> a.SetOperation:
        return self._set(a.SetOp.INTERSECT, meta, children)

    def except_(self, meta: Meta, children: list[Any]) -> a.SetOperation:
        return self._set(a.SetOp.EXCEPT, meta, children)

    # ---- boolean structure ----

    def condition(self, meta: Meta, children: list[Any]) -> a.Or:
        items = tuple(c for c in children if not isinstance(c, Token))
        return a.Or(items=items, span=self._span(meta))

    def conjunction(self, meta: Meta, children: list[Any]) -> a.And:
        items = tuple(c for c in children if not isinstance(c, Token))
        return a.And(items=items, span=self._span(meta))

    def not_(self, meta: Meta, children: list[Any]) -> a.Not:
        return a.Not(item=children[-1], span=self._span(meta))

    def block(self, meta: Meta, children: list[Any]) -> _Block:
        return _Block(children[1])  # "(" condition ")"

    def negation(self, meta: Meta, children: list[Any]) -> Any:
        return children[1]  # "(" condition ")"

    set_atom = negation  # "(" set_expr ")"

    # ---- names ----

    def ident(self, meta: Meta, children: list[Any]) -> a.Identifier:
        token: Token = children[0]
        name = str(token)
        if token.type == "QUOTED_NAME":
            name = name[1:-1].replace("``", "`")
        return a.Identifier(name=name, span=self._span(meta))

    def dotted(self, meta: Meta, children: list[Any]) -> a.Dotted:
        names = _of(children, a.Identifier)
        qualifier = names[0] if len(names) == 2 else None
        return a.Dotted(name=names[-1], qualifier=qualifier, span=self._span(meta))

    def via(self, meta: Meta, children: list[Any]) -> _Via:
        return _Via(tuple(_of(children, a.Identifier)))

    # ---- operators ----

    def comp_op(self, meta: Meta, children: list[Any]) -> a.CompareOp:
        text = str(children[0]).lower()
        return a.CompareOp({"before": "<", "after": ">"}.get(text, text))

    def text_op(self, meta: Meta, children: list[Any]) -> a.TextOp:
        return {"CONTAINS": a.TextOp.CONTAINS, "STARTS": a.TextOp.STARTS_WITH}.get(
            children[0].type, a.TextOp.ENDS_WITH
        )

    def quantifier(self, meta: Meta, children: list[Any]) -> a.Quantifier:
        return a.Quantifier(str(children[0]).lower())

    seq_quantifier = quantifier

    def agg_func(self, meta: Meta, children: list[Any]) -> a.AggFunc:
        return a.AggFunc(str(children[0]).lower())

    def case_sensitive(self, meta: Meta, children: list[Any]) -> bool:
        return True

    def unit(self, meta: Meta, children: list[Any]) -> a.TimeUnit:
        return _UNITS[str(children[0]).lower().removesuffix("s")]

    period = unit

    def day(self, meta: Meta, children: list[Any]) -> a.DayWindow:
        return a.DayWindow(day=a.Day(str(children[0]).lower()), span=self._span(meta))

    # ---- predicates ----

    def comparison(self, meta: Meta, children: list[Any]) -> a.Comparison:
        attribute, op, value = children
        return a.Comparison(attribute=attribute, op=op, value=value, span=self._span(meta))

    def between(self, meta: Meta, children: list[Any]) -> a.Between:
        attribute, _, low, _, high = children
        return a.Between(attribute=attribute, low=low, high=high, span=self._span(meta))

    def in_list(self, meta: Meta, children: list[Any]) -> a.InList:
        return a.InList(attribute=children[0], values=children[-1], span=self._span(meta))

    def not_in_list(self, meta: Meta, children: list[Any]) -> a.InList:
        return a.InList(
            attribute=children[0], values=children[-1], negated=True, span=self._span(meta)
        )

    def text_match(self, meta: Meta, children: list[Any]) -> a.TextMatch:
        attribute, op, token, *rest = children
        return a.TextMatch(
            attribute=attribute,
            op=op,
            value=self._string_token(token),
            case_sensitive=bool(rest),
            span=self._span(meta),
        )

    def regex_match(self, meta: Meta, children: list[Any]) -> a.RegexMatch:
        attribute, _, token = children
        pattern = self._string_token(token)
        return a.RegexMatch(attribute=attribute, pattern=pattern, span=self._span(meta))

    def is_empty(self, meta: Meta, children: list[Any]) -> a.IsEmpty:
        return a.IsEmpty(attribute=children[0], span=self._span(meta))

    def is_not_empty(self, meta: Meta, children: list[Any]) -> a.IsEmpty:
        return a.IsEmpty(attribute=children[0], negated=True, span=self._span(meta))

    def is_true(self, meta: Meta, children: list[Any]) -> a.IsBoolean:
        return a.IsBoolean(attribute=children[0], value=True, span=self._span(meta))

    def is_false(self, meta: Meta, children: list[Any]) -> a.IsBoolean:
        return a.IsBoolean(attribute=children[0], value=False, span=self._span(meta))

    def in_window(self, meta: Meta, children: list[Any]) -> a.InWindow:
        return a.InWindow(attribute=children[0], window=children[-1], span=self._span(meta))

    def anniversary(self, meta: Meta, children: list[Any]) -> a.Anniversary:
        return a.Anniversary(attribute=children[0], window=children[-1], span=self._span(meta))

    def related(self, meta: Meta, children: list[Any]) -> a.Related:
        return a.Related(
            quantifier=children[0],
            entity=_of(children, a.Identifier)[0],
            via=_via(children),
            condition=_block(children),
            span=self._span(meta),
        )

    def related_all(self, meta: Meta, children: list[Any]) -> a.Related:
        return a.Related(
            quantifier=a.Quantifier.ALL,
            entity=_of(children, a.Identifier)[0],
            via=_via(children),
            condition=_block(children),
            span=self._span(meta),
        )

    def count(self, meta: Meta, children: list[Any]) -> a.Aggregate:
        return a.Aggregate(
            func=a.AggFunc.COUNT,
            entity=_of(children, a.Identifier)[0],
            attribute=None,
            via=_via(children),
            condition=_block(children),
            op=_of(children, a.CompareOp)[0],
            value=children[-1],
            span=self._span(meta),
        )

    def aggregate(self, meta: Meta, children: list[Any]) -> a.Aggregate:
        target: a.Dotted = children[1]
        if target.qualifier is None:
            raise SegmentError(
                ErrorCode.SYNTAX_UNEXPECTED_TOKEN,
                f"Name the entity and the attribute to aggregate, e.g. `{children[0].value} "
                f"Order.total`.",
                target.span,
            )
        return a.Aggregate(
            func=children[0],
            entity=target.qualifier,
            attribute=target.name,
            via=_via(children),
            condition=_block(children),
            op=_of(children, a.CompareOp)[0],
            value=children[-1],
            span=self._span(meta),
        )

    def in_segment(self, meta: Meta, children: list[Any]) -> a.InSegment:
        return a.InSegment(name=_of(children, a.Identifier)[0], span=self._span(meta))

    def event(self, meta: Meta, children: list[Any]) -> a.Event:
        target: a.Dotted = children[0]
        entity, time = (target.qualifier, target.name) if target.qualifier else (target.name, None)
        return a.Event(
            entity=entity,
            time=time,
            via=_via(children),
            condition=_block(children),
            span=self._span(meta),
        )

    def within(self, meta: Meta, children: list[Any]) -> a.Within:
        unit = _of(children, a.TimeUnit)[0]
        amount = self._amount(children[1], unit)
        return a.Within(amount=amount, unit=unit, span=self._span(meta))

    def sequence(self, meta: Meta, children: list[Any]) -> a.Sequence:
        first, second = _of(children, a.Event)
        quantifiers = _of(children, a.Quantifier)
        within = _of(children, a.Within)
        return a.Sequence(
            first=first,
            quantifier=quantifiers[0] if quantifiers else a.Quantifier.ANY,
            second=second,
            within=within[0] if within else None,
            span=self._span(meta),
        )
