"""Bound segment -> Cypher text + parameters.

Values are always parameters `$p0..$pN` (numbered in traversal order); names come from schema
objects through `escape`; variables are `n0, n1, ...` (nodes) and `r0, r1, ...` (relationships)
in traversal order. The same bound input therefore gives byte-identical text, and a new `now`
changes only parameter values.

Related records are tested inside `EXISTS { }` / `COUNT { }` / `COLLECT { }` subqueries anchored
on the enclosing variable, so no pattern is ever matched apart from its anchor (no cartesian
products), and attribute predicates compare the raw property so range indexes serve.

A stored segment referenced by `in segment` is bound once per query by `prelude()`: `sK` (its
node, null when no segment has that name) and `vK` (its `activeVersion`, read once), numbered
in order of first reference. Neo4j reads at read-committed isolation, so a version read per
profile row could change while the query runs (a refresh switching it) and rows would disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import assert_never

from grammar import bound as b
from grammar.ast import AggFunc, CompareOp, Quantifier, SetOp, TextOp, TimeUnit
from grammar.cypher import escape
from graph_schema import Direction, engine_labels

Param = b.Value | list[b.Value] | list[int]

_OPS = {
    CompareOp.EQ: "=",
    CompareOp.NE: "<>",
    CompareOp.LT: "<",
    CompareOp.LE: "<=",
    CompareOp.GT: ">",
    CompareOp.GE: ">=",
}
_TEXT = {
    TextOp.CONTAINS: "CONTAINS",
    TextOp.STARTS_WITH: "STARTS WITH",
    TextOp.ENDS_WITH: "ENDS WITH",
}
_DURATION = {
    TimeUnit.HOUR: "hours",
    TimeUnit.DAY: "days",
    TimeUnit.WEEK: "weeks",
    TimeUnit.MONTH: "months",
    TimeUnit.QUARTER: "months",  # Cypher's duration() has no quarters: 3 months each
    TimeUnit.YEAR: "years",
}


@dataclass(frozen=True, slots=True)
class CompiledCypher:
    text: str
    params: dict[str, Param]


@dataclass(frozen=True, slots=True)
class Scope:
    """The record conditions talk about, and the relationships of the path that reached it."""

    node: str
    rels: tuple[str, ...] = ()


@dataclass(slots=True)
class ExpressionPrinter:
    """Prints conditions; owns the parameter list and the variable counters."""

    params: list[Param] = field(default_factory=list)
    nodes: int = 0
    rels: int = 0
    segments: dict[str, str] = field(default_factory=dict)  # name -> its $parameter

    def param(self, value: Param) -> str:
        self.params.append(value)
        return f"$p{len(self.params) - 1}"

    def node(self) -> str:
        self.nodes += 1
        return f"n{self.nodes - 1}"

    def rel(self) -> str:
        self.rels += 1
        return f"r{self.rels - 1}"

    def param_dict(self) -> dict[str, Param]:
        return {f"p{i}": v for i, v in enumerate(self.params)}

    def segment(self, name: str) -> int:
        """K of the variables `sK`, `vK` that the prelude binds for the stored segment `name`."""
        if name not in self.segments:
            self.segments[name] = self.param(name)
        return list(self.segments).index(name)

    def prelude(self) -> str:
        """The lines, each ending in a newline, that bind every referenced segment once (one row;
        OPTIONAL so that a missing segment makes its conditions false, not the result empty)."""
        if not self.segments:
            return ""
        e = engine_labels
        label, key = escape.name(e.SEGMENT_LABEL), escape.name(e.SEGMENT_NAME)
        lines = [
            f"OPTIONAL MATCH (s{k}:{label} {{{key}: {param}}})\n"
            for k, param in enumerate(self.segments.values())
        ]
        bound = (
            f"s{k}, {escape.prop(f's{k}', e.ACTIVE_VERSION)} AS v{k}"
            for k in range(len(self.segments))
        )
        return "".join(lines) + "WITH " + ", ".join(bound) + "\n"

    def prelude_variables(self) -> tuple[str, ...]:
        """`s0, v0, s1, ...`: a later WITH that projects conditions must carry them too. Neo4j
        counts a COLLECT { ... RETURN min() } in a projection as an aggregation, and then
        rejects outer variables other than the projected ones as implicit grouping keys."""
        return tuple(f"{v}{k}" for k in range(len(self.segments)) for v in "sv")

    # ---- set expressions ----

    def set_expr(self, node: b.BoundSetExpr, scope: Scope) -> str:
        match node:
            case b.BoundGroup(condition=cond):
                return self.expr(cond, scope)
            case b.BoundSetOperation(op=op, left=left, right=right):
                lhs, rhs = self.set_expr(left, scope), self.set_expr(right, scope)
                return self._set_op(op, lhs, rhs)
            case _:
                assert_never(node)

    @staticmethod
    def _set_op(op: SetOp, lhs: str, rhs: str) -> str:
        match op:
            case SetOp.UNION:
                return f"({lhs} OR {rhs})"
            case SetOp.INTERSECT:
                return f"({lhs} AND {rhs})"
            case SetOp.EXCEPT:  # a profile whose membership in rhs is unknown is not removed
                return f"({lhs} AND NOT coalesce({rhs}, false))"
            case _:
                assert_never(op)

    # ---- conditions ----

    def expr(self, node: b.BoundCondition, scope: Scope) -> str:
        match node:
            case b.BoundAnd(items=items):
                return "(" + " AND ".join(self.expr(i, scope) for i in items) + ")"
            case b.BoundOr(items=items):
                return "(" + " OR ".join(self.expr(i, scope) for i in items) + ")"
            case b.BoundNot(item=item):
                return f"NOT {self.expr(item, scope)}"
            case b.BoundCompare(prop=prop, op=op, value=value):
                return f"{self.prop(prop, scope)} {_OPS[op]} {self.param(value)}"
            case b.BoundBetween(prop=prop, low=low, high=high):
                target = self.prop(prop, scope)
                return f"({target} >= {self.param(low)} AND {target} <= {self.param(high)})"
            case b.BoundInList(prop=prop, values=values, negated=negated):
                test = f"{self.prop(prop, scope)} IN {self.param(list(values))}"
                return f"NOT ({test})" if negated else test
            case b.BoundText():
                return self._text(node, scope)
            case b.BoundRegex(prop=prop, pattern=pattern):
                return f"{self.prop(prop, scope)} =~ {self.param(pattern)}"
            case b.BoundWindow(prop=prop, start=start, end=end):
                target = self.prop(prop, scope)
                return f"({target} >= {self.param(start)} AND {target} < {self.param(end)})"
            case b.BoundAnniversary(prop=prop, month_days=days):
                target = self.prop(prop, scope)
                return f"({target}.month * 100 + {target}.day) IN {self.param(list(days))}"
            case b.BoundIsEmpty(prop=prop, negated=negated):
                return f"{self.prop(prop, scope)} IS {'NOT ' if negated else ''}NULL"
            case b.BoundRelated():
                return self._related(node, scope)
            case b.BoundAggregate():
                return self._aggregate(node, scope)
            case b.BoundSegmentRef(name=name):
                return self._segment_ref(name, scope)
            case b.BoundSequence():
                return self._sequence(node, scope)
            case _:
                assert_never(node)

    def prop(self, prop: b.BoundProperty, scope: Scope) -> str:
        if prop.step is None:
            return escape.prop(scope.node, prop.attribute)
        return escape.prop(scope.rels[prop.step], prop.attribute)

    def _text(self, node: b.BoundText, scope: Scope) -> str:
        target = self.prop(node.prop, scope)
        if node.case_sensitive:
            return f"{target} {_TEXT[node.op]} {self.param(node.value)}"
        return f"toLower({target}) {_TEXT[node.op]} {self.param(node.value.lower())}"

    # ---- related records ----

    def pattern(self, path: b.BoundPath, scope: Scope) -> tuple[str, Scope]:
        """`(n0)-[r0:`T`]->(n1:`E`)...` anchored on the scope's node; the scope at its end."""
        text, rels, node = f"({scope.node})", [], scope.node
        for step, entity in zip(path.steps, path.entities[1:], strict=True):
            rel, node = self.rel(), self.node()
            rels.append(rel)
            typed = f"[{rel}:{escape.rel_type(step.relationship)}]"
            arrow = f"-{typed}->" if step.direction is Direction.OUT else f"<-{typed}-"
            text += f"{arrow}({node}:{escape.label(entity)})"
        return text, Scope(node=node, rels=tuple(rels))

    def _match(
        self, path: b.BoundPath, cond: b.BoundCondition | None, scope: Scope
    ) -> tuple[str, Scope]:
        pattern, inner = self.pattern(path, scope)
        where = "" if cond is None else f" WHERE {self.expr(cond, inner)}"
        return f"MATCH {pattern}{where}", inner

    def related_match(self, node: b.BoundRelated, scope: Scope) -> str:
        """`MATCH <pattern> WHERE <condition>` of an `any` block: what its EXISTS holds, and
        the first clause of a candidate-driven query (see `grammar.cypher.candidates`)."""
        return self._match(node.path, node.condition, scope)[0]

    def _related(self, node: b.BoundRelated, scope: Scope) -> str:
        match node.quantifier:
            case Quantifier.ANY:
                return f"EXISTS {{ {self.related_match(node, scope)} }}"
            case Quantifier.NO:
                return f"NOT EXISTS {{ {self._match(node.path, node.condition, scope)[0]} }}"
            case Quantifier.ALL:  # no related record for which the condition is not TRUE
                pattern, inner = self.pattern(node.path, scope)
                test = "true" if node.condition is None else self.expr(node.condition, inner)
                return f"NOT EXISTS {{ MATCH {pattern} WHERE NOT coalesce({test}, false) }}"
            case _:
                assert_never(node.quantifier)

    def _aggregate(self, node: b.BoundAggregate, scope: Scope) -> str:
        query, inner = self._match(node.path, node.condition, scope)
        op = _OPS[node.op]
        if node.func is AggFunc.COUNT or node.prop is None:
            return f"COUNT {{ {query} RETURN DISTINCT {inner.node} }} {op} {self.param(node.value)}"
        value = self.prop(node.prop, inner)
        func = node.func.value
        aggregate = f"COLLECT {{ {query} WITH DISTINCT {inner.node} RETURN {func}({value}) }}[0]"
        return f"{aggregate} {op} {self.param(node.value)}"

    def _segment_ref(self, name: str, scope: Scope) -> str:
        """Members of the active version only (see `graph_schema.engine_labels`), as bound once
        by the prelude."""
        k, member = self.segment(name), self.rel()
        since = escape.prop(member, engine_labels.MEMBER_SINCE)
        until = escape.prop(member, engine_labels.MEMBER_UNTIL)
        return (
            f"EXISTS {{ MATCH (s{k})-[{member}:{escape.name(engine_labels.MEMBER_REL)}]->"
            f"({scope.node}) WHERE {since} <= v{k} AND ({until} IS NULL OR {until} > v{k}) }}"
        )

    def _sequence(self, node: b.BoundSequence, scope: Scope) -> str:
        first_pattern, first = self.pattern(node.first.path, scope)
        first_time = self.prop(node.first.time, first)
        tests = [f"{first_time} IS NOT NULL"]
        if node.first.condition is not None:
            tests.append(self.expr(node.first.condition, first))
        second_pattern, second = self.pattern(node.second.path, scope)
        second_time = self.prop(node.second.time, second)
        after = [f"{second_time} > {first_time}"]
        if node.within is not None:
            unit, amount = _DURATION[node.within.unit], node.within.amount
            if node.within.unit is TimeUnit.QUARTER:
                amount *= 3
            limit = f"{first_time} + duration({{{unit}: {self.param(amount)}}})"
            after.append(f"{second_time} <= {limit}")
        if node.second.condition is not None:
            after.append(self.expr(node.second.condition, second))
        negation = "NOT " if node.quantifier is Quantifier.NO else ""
        inner = f"{negation}EXISTS {{ MATCH {second_pattern} WHERE {' AND '.join(after)} }}"
        tests.append(inner)
        return f"EXISTS {{ MATCH {first_pattern} WHERE {' AND '.join(tests)} }}"
