"""The count form of a PER_MATCH rule: per matching profile, how many related records its
condition selects.

A PER_MATCH rule's condition must be one related-records predicate (`any E (...)` or
`count E (...) >= n`): the records it counts are then unambiguous. The query shares the
members form's condition, printed by the same printer so parameters stay `$p0..$pN`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from grammar import bound as b
from grammar.ast import AggFunc, Quantifier
from grammar.cypher import escape
from grammar.cypher.printer import CompiledCypher, ExpressionPrinter, Scope
from grammar.walk import conditions_of_condition
from graph_schema import Attribute, AttrType


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
    return _per_profile(
        segment,
        counted,
        "matches",
        lambda match, record: f"COUNT {{ {match} RETURN DISTINCT {record} }}",
    )


def _per_profile(
    segment: b.BoundSegment, counted: b.BoundRelated | b.BoundAggregate, column: str,
    of_matched: Callable[[str, str], str],
) -> CompiledCypher:  # fmt: skip
    """`RETURN key, <column>` for the profiles the rule holds for, the column printed by
    `of_matched(match, record)` from the counted predicate's `MATCH ... WHERE ...` and the
    variable of its records. One printer for both, so parameters stay `$p0..$pN`."""
    printer = ExpressionPrinter()
    root = Scope(node=printer.node())
    where = printer.set_expr(segment.body, root)
    pattern, inner = printer.pattern(counted.path, root)
    test = "" if counted.condition is None else f" WHERE {printer.expr(counted.condition, inner)}"
    value = of_matched(f"MATCH {pattern}{test}", inner.node)
    key = escape.prop(root.node, segment.audience.key_attribute)
    label = f"({root.node}:{escape.label(segment.audience)})"
    text = (
        f"{printer.prelude()}MATCH {label}\nWHERE {where}\nRETURN {key} AS key, {value} AS {column}"
    )
    return CompiledCypher(text, printer.param_dict())


def dated_attribute(counted: b.BoundRelated | b.BoundAggregate) -> Attribute | None:
    """The date or datetime that ages a counted record: the one its condition reads (a window,
    a comparison), else the entity's first; None when it has none."""
    target = counted.path.target
    if counted.condition is not None:
        for node in conditions_of_condition(counted.condition):
            prop = getattr(node, "prop", None)
            if (
                isinstance(prop, b.BoundProperty) and prop.step is None
                and prop.entity.name == target.name and prop.attribute.type.is_temporal
            ):  # fmt: skip
                return prop.attribute
    return next((a for a in target.attributes if a.type.is_temporal), None)


def print_match_ages(segment: b.BoundSegment, now: dt.datetime) -> CompiledCypher | None:
    """`RETURN key, ages`: the age in days at `now` of each record the rule's related-records
    predicate matches, for the profiles it holds for; None when not countable or undated."""
    counted = counted_predicate(segment)
    if counted is None or (dated := dated_attribute(counted)) is None:
        return None
    at = escape.prop("r", dated.name)
    if dated.type is AttrType.DATE:
        age = f"toFloat(duration.inDays({at}, $ageToday).days)"
    else:
        gap = f"duration.inSeconds({at}, $ageNow)"
        age = f"({gap}.seconds + {gap}.nanosecondsOfSecond / 1e9) / 86400.0"
    form = _per_profile(
        segment, counted, "ages",
        lambda match, record: (
            f"COLLECT {{ {match} WITH DISTINCT {record} AS r WHERE {at} IS NOT NULL RETURN {age} }}"
        ),
    )  # fmt: skip
    params: dict[str, Any] = {**form.params, "ageNow": now, "ageToday": now.date()}
    return CompiledCypher(form.text, params)
