"""Why is a profile in a segment, or why not: every clause's truth for that one profile.

Built on the reference evaluator (`grammar.evaluate`), so the answer follows the documented
semantics exactly; the API's `membership(segment, profile)` query returns this tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, assert_never

from grammar import bound as b
from grammar.ast import SetOp
from grammar.evaluate import Dataset, Evaluator, Key, Scope, Truth, aggregate, read

_SHOWN = 5  # matching related keys listed in a detail

_OPS = {"EQ": "=", "NE": "!=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">="}


@dataclass(frozen=True, kw_only=True, slots=True)
class ClauseResult:
    """One clause for one profile: `truth` is True, False or None (unknown: a null was
    involved). `detail` gives the value the clause looked at, when that helps."""

    text: str
    truth: Truth
    detail: str = ""
    children: tuple[ClauseResult, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class MembershipExplanation:
    key: Key
    found: bool  # the audience has a record with this key
    member: bool
    body: ClauseResult


def explain_membership(
    segment: b.BoundSegment,
    dataset: Dataset,
    key: Key,
    *,
    segments: Mapping[str, frozenset[Key]] | None = None,
) -> MembershipExplanation:
    """Per-clause results of `segment` for the profile `key`: groups and set operators, then
    and / or / not recursively down to each condition. Raises nothing; an unknown key is no
    member (`found=False`), its clauses evaluated on an empty record."""
    evaluator = Evaluator(dataset, segments or {})
    rows = dataset.records(segment.audience)
    scope = Scope(segment.audience, key, rows.get(key, {}))
    body = _Explainer(evaluator, scope).set_expr(segment.body)
    found = key in rows
    return MembershipExplanation(
        key=key, found=found, member=found and body.truth is True, body=body
    )


@dataclass(frozen=True, slots=True)
class _Explainer:
    evaluator: Evaluator
    scope: Scope

    def set_expr(self, node: b.BoundSetExpr) -> ClauseResult:
        match node:
            case b.BoundGroup(condition=cond):
                inner = self.condition(cond)
                return ClauseResult(text="where", truth=inner.truth is True, children=(inner,))
            case b.BoundSetOperation(op=op, left=left, right=right):
                lhs, rhs = self.set_expr(left), self.set_expr(right)
                member = _combine(op, lhs.truth is True, rhs.truth is True)
                return ClauseResult(text=op.value, truth=member, children=(lhs, rhs))
            case _:
                assert_never(node)

    def condition(self, node: b.BoundCondition) -> ClauseResult:
        truth = self.evaluator.truth(node, self.scope)
        match node:
            case b.BoundAnd(items=items) | b.BoundOr(items=items):
                word = "and" if isinstance(node, b.BoundAnd) else "or"
                children = tuple(self.condition(i) for i in items)
                return ClauseResult(text=word, truth=truth, children=children)
            case b.BoundNot(item=item):
                return ClauseResult(text="not", truth=truth, children=(self.condition(item),))
            case _:
                return ClauseResult(text=describe(node), truth=truth, detail=self.detail(node))

    def detail(self, node: b.BoundCondition) -> str:
        """What the clause saw: the attribute's value, or the aggregate's result."""
        match node:
            case b.BoundAggregate(func=func, prop=prop, condition=cond, path=path):
                ends = self.evaluator.walk(path, self.scope)
                rows = {s.key: s.row for s in ends if cond is None or self.evaluator.truth(
                    cond, s) is True}  # fmt: skip
                return f"{func.value} = {_show(aggregate(func, prop, list(rows.values())))}"
            case b.BoundRelated(path=path, condition=cond):
                walks = list(self.evaluator.walk(path, self.scope))
                held = {s.key for s in walks if cond is None or self.evaluator.truth(cond, s)}
                shown = ", ".join(sorted(map(str, held))[:_SHOWN])
                return (
                    f"{len(held)} of {len({s.key for s in walks})} related {path.target.name} "
                    f"record(s) match" + (f": {shown}" if held else "")
                )
            case b.BoundSegmentRef() | b.BoundSequence():
                return ""
            case b.BoundAnd() | b.BoundOr() | b.BoundNot():
                return ""
            case _:
                return f"{node.prop.attribute.name} = {_show(read(node.prop, self.scope))}"


def _combine(op: SetOp, left: bool, right: bool) -> bool:
    match op:
        case SetOp.UNION:
            return left or right
        case SetOp.INTERSECT:
            return left and right
        case SetOp.EXCEPT:
            return left and not right
        case _:
            assert_never(op)


def _show(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _name(prop: b.BoundProperty) -> str:
    owner = prop.relationship.type if prop.relationship else prop.entity.name
    return f"{owner}.{prop.attribute.name}"


def describe(node: b.BoundCondition) -> str:
    """A short, readable account of one condition (not the canonical text: values are the
    resolved ones, e.g. a window's concrete bounds)."""
    match node:
        case b.BoundCompare(prop=prop, op=op, value=value):
            return f"{_name(prop)} {_OPS[op.name]} {_show(value)}"
        case b.BoundBetween(prop=prop, low=low, high=high):
            return f"{_name(prop)} between {_show(low)} and {_show(high)}"
        case b.BoundInList(prop=prop, values=values, negated=negated):
            shown = ", ".join(_show(v) for v in values)
            return f"{_name(prop)} {'not in' if negated else 'in'} ({shown})"
        case b.BoundText(prop=prop, op=op, value=value, case_sensitive=sensitive):
            suffix = " case sensitive" if sensitive else ""
            return f"{_name(prop)} {op.value} {_show(value)}{suffix}"
        case b.BoundRegex(prop=prop, pattern=pattern):
            return f"{_name(prop)} matches {_show(pattern)}"
        case b.BoundWindow(prop=prop, start=start, end=end):
            return f"{_name(prop)} in [{start}, {end})"
        case b.BoundAnniversary(prop=prop):
            return f"{_name(prop)} anniversary in the window"
        case b.BoundIsEmpty(prop=prop, negated=negated):
            return f"{_name(prop)} is {'not ' if negated else ''}empty"
        case b.BoundRelated(quantifier=q, path=path):
            return f"{q.value} {path.target.name} ({path.describe()})"
        case b.BoundAggregate(func=func, path=path, prop=prop, op=op, value=value):
            what = path.target.name if prop is None else _name(prop)
            return f"{func.value} {what} {_OPS[op.name]} {_show(value)}"
        case b.BoundSegmentRef(name=name):
            return f"in segment {name}"
        case b.BoundSequence(first=first, quantifier=q, second=second):
            return f"{first.path.target.name} then {q.value} {second.path.target.name}"
        case b.BoundAnd() | b.BoundOr() | b.BoundNot():
            return type(node).__name__.removeprefix("Bound").lower()
        case _:
            assert_never(node)
