"""The count form of a PER_MATCH rule: per matching profile, how many related records its
condition selects.

A PER_MATCH rule's condition must be one related-records predicate (`any E (...)` or
`count E (...) >= n`): the records it counts are then unambiguous. The query shares the
members form's condition, printed by the same printer so parameters stay `$p0..$pN`.
"""

from __future__ import annotations

from grammar import bound as b
from grammar.ast import AggFunc, Quantifier
from grammar.cypher import escape
from grammar.cypher.printer import CompiledCypher, ExpressionPrinter, Scope


def counted_predicate(segment: b.BoundSegment) -> b.BoundRelated | b.BoundAggregate | None:
    """The related-records predicate a PER_MATCH rule counts, None when it has none."""
    body = segment.body
    if not isinstance(body, b.BoundGroup):
        return None
    cond = body.condition
    if isinstance(cond, b.BoundRelated) and cond.quantifier is Quantifier.ANY:
        return cond
    if isinstance(cond, b.BoundAggregate) and cond.func is AggFunc.COUNT:
        return cond
    return None


def print_match_count(segment: b.BoundSegment) -> CompiledCypher | None:
    """`RETURN key, matches` for the profiles the rule holds for; None when not countable."""
    counted = counted_predicate(segment)
    if counted is None:
        return None
    printer = ExpressionPrinter()
    root = Scope(node=printer.node())
    where = printer.set_expr(segment.body, root)
    pattern, inner = printer.pattern(counted.path, root)
    test = "" if counted.condition is None else f" WHERE {printer.expr(counted.condition, inner)}"
    matches = f"COUNT {{ MATCH {pattern}{test} RETURN DISTINCT {inner.node} }}"
    key = escape.prop(root.node, segment.audience.key_attribute)
    label = f"({root.node}:{escape.label(segment.audience)})"
    text = (
        f"{printer.prelude()}MATCH {label}\nWHERE {where}\n"
        f"RETURN {key} AS key, {matches} AS matches"
    )
    return CompiledCypher(text, printer.param_dict())
