"""Which features an expansion reads: the planned numeric features (server.features) and the
profile's own non-personal string attributes, one-hot on their most frequent values (a city,
a tier: what look-alikes often share and counts and sums cannot show).

A name picks a planned feature by its full name (`Order.total.sum_365d`), every feature of an
attribute (`creditBalance` or `Customer.creditBalance`, `Order.total`), or a string attribute
(`city` or `Customer.city`: its value columns `Customer.city=Oslo`, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph_schema import Attribute, AttrType, GraphSchema
from server.features import FeaturePlan, plan_features

# Never features of a look-alike model: the demo's planted answer.
NEVER = ("segmentHint",)
TOP_VALUES = 12  # one-hot columns per string attribute
MAX_DISTINCT = 200  # more distinct values than this: a name or an id, not a trait

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ExpansionFeatures:
    plan: FeaturePlan
    strings: tuple[Attribute, ...]  # the profile's string attributes that may be one-hot


@dataclass(frozen=True, slots=True)
class Choice:
    columns: list[int]  # positions in plan.features, in plan order
    strings: list[Attribute]
    unknown: list[int]  # positions in the names asked of those matching nothing


def expansion_features(schema: GraphSchema, audience: str) -> ExpansionFeatures:
    """The features suggested for an audience's expansions (all of them).
    Raises KeyError for an unknown audience."""
    plan = plan_features(schema, audience, exclude=NEVER)
    p = plan.profile
    strings = tuple(
        a for a in p.attributes
        if a.type is AttrType.STRING and not a.pii and a.name != p.key and a.name not in NEVER
    )  # fmt: skip
    return ExpansionFeatures(plan, strings)


def choose(features: ExpansionFeatures, wanted: Sequence[str]) -> Choice:
    """The columns and string attributes `wanted` names (all when empty), and the positions
    of names matching nothing."""
    if not wanted:
        return Choice(list(range(len(features.plan.features))), list(features.strings), [])
    picked: set[int] = set()
    strings: list[Attribute] = []
    unknown = []
    for i, name in enumerate(wanted):
        found = _columns(features.plan, name)
        picked.update(found)
        named = [
            a
            for a in features.strings
            if name in (a.name, f"{features.plan.profile.name}.{a.name}")
        ]
        strings += [a for a in named if a not in strings]
        if not found and not named:
            unknown.append(i)
    return Choice(sorted(picked), strings, unknown)


def _columns(plan: FeaturePlan, name: str) -> list[int]:
    prefixes = (name, f"{plan.profile.name}.{name}")
    return [
        i for i, f in enumerate(plan.features)
        if f.name in prefixes or any(f.name.startswith(p + ".") for p in prefixes)
    ]  # fmt: skip


def one_hot(
    profile: str, attributes: Sequence[Attribute], values: Sequence[Sequence[object]]
) -> tuple[list[str], Floats]:
    """`one_hot_columns` of values given one list per row, in attribute order."""
    columns = [[row[j] for row in values] for j in range(len(attributes))]
    return one_hot_columns(profile, attributes, columns, len(values))


def one_hot_columns(
    profile: str, attributes: Sequence[Attribute], columns: Sequence[Sequence[object]], rows: int
) -> tuple[list[str], Floats]:
    """Column names (`Customer.city=Oslo`) and 0/1 columns for the TOP_VALUES most frequent
    values of each attribute (`columns`: one list of `rows` values per attribute, None for
    missing); an attribute with more than MAX_DISTINCT values is left out. Ties in frequency
    go by value text."""
    names: list[str] = []
    blocks: list[Floats] = []
    for attr, raw in zip(attributes, columns, strict=True):
        column = [None if v is None else str(v) for v in raw]
        counts = Counter(v for v in column if v is not None)
        if not counts or len(counts) > MAX_DISTINCT:
            continue
        top = sorted(counts.items(), key=lambda c: (-c[1], c[0]))[:TOP_VALUES]
        code: dict[str | None, int] = {value: c for c, (value, _) in enumerate(top)}
        # one pass to codes, then a vector comparison per value (1M rows: not 12M in Python)
        codes = np.fromiter((code.get(v, -1) for v in column), np.int64, len(column))
        for c, (value, _) in enumerate(top):
            names.append(f"{profile}.{attr.name}={value}")
            blocks.append((codes == c).astype(np.float64))
    matrix = np.column_stack(blocks) if blocks else np.zeros((rows, 0))
    return names, matrix
