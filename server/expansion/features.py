"""Which feature columns an expansion reads: planned features (server.features) by name.

A name picks a feature by its full name (`Order.total.sum_365d`) or every feature of an
attribute (`creditLimit` or `Customer.creditLimit`, `Order.total`).
"""

from __future__ import annotations

from collections.abc import Sequence

from graph_schema import GraphSchema
from server.features import FeaturePlan, plan_features

# Never features of a look-alike model: the demo's planted answer and free-text notes.
NEVER = ("segmentHint",)


def expansion_plan(schema: GraphSchema, audience: str) -> FeaturePlan:
    """The features suggested for an audience's expansions (every planned feature).
    Raises KeyError for an unknown audience."""
    return plan_features(schema, audience, exclude=NEVER)


def matches(plan: FeaturePlan, name: str) -> list[int]:
    """Column positions `name` picks in the plan (empty: no such feature or attribute)."""
    names = [f.name for f in plan.features]
    prefixes = (name, f"{plan.profile.name}.{name}")
    return [
        i for i, n in enumerate(names)
        if n in prefixes or any(n.startswith(p + ".") for p in prefixes)
    ]  # fmt: skip


def choose_columns(plan: FeaturePlan, wanted: Sequence[str]) -> tuple[list[int], list[int]]:
    """(column positions, in plan order, of the features `wanted` names (all when empty);
    positions in `wanted` of names matching nothing)."""
    if not wanted:
        return list(range(len(plan.features))), []
    picked: set[int] = set()
    unknown = []
    for i, name in enumerate(wanted):
        found = matches(plan, name)
        picked.update(found)
        if not found:
            unknown.append(i)
    return sorted(picked), unknown
