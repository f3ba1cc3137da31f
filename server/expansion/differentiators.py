"""What sets a segment apart: the features whose values differ most between its members and a
comparison group (every profile of the audience, or another segment).

Numbers by standardised mean difference; string attributes by Cohen's h on the share of their
most different value; both are effect sizes on one scale (0.2 small, 0.5 medium, 0.8 large).
Each side is a seeded sample of at most `SAMPLE` profiles, so a request stays short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from graph_schema import GraphSchema
from scoring.expansion import share_difference, standardized_difference
from server.expansion import graph as g
from server.expansion.features import choose, expansion_features, one_hot_columns
from server.refresh.graph import Graph

SAMPLE = 5_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Differentiator:
    feature: str  # a planned feature, or the attribute of a one-hot value (`Customer.city`)
    label: str
    value: str | None  # the most different value of a string attribute
    difference: float  # signed effect size, segment minus comparison
    segment_value: float  # mean (numbers) or share (a value)
    others_value: float

    @property
    def score(self) -> float:
        return abs(self.difference)


def sample(keys: Sequence[g.Key], size: int = SAMPLE) -> list[g.Key]:
    """At most `size` of `keys`, the same ones for the same keys."""
    ordered = sorted(keys, key=str)
    if len(ordered) <= size:
        return ordered
    picked = np.random.default_rng(0).choice(len(ordered), size, replace=False)
    return [ordered[i] for i in sorted(picked.tolist())]


async def differentiators(
    graph: Graph, schema: GraphSchema, audience: str, members: Sequence[g.Key],
    others: Sequence[g.Key], now: dt.datetime, first: int = 10,
) -> list[Differentiator]:  # fmt: skip
    """The `first` features differing most between `members` and `others` (samples)."""
    features = expansion_features(schema, audience)
    chosen = choose(features, [])
    keys = [*members, *others]
    plan = features.plan
    numbers = await g.feature_rows(graph, schema, plan, keys, now)
    values = await g.attribute_columns(graph, plan.profile, chosen.strings, keys)
    names, strings = one_hot_columns(plan.profile.name, chosen.strings, values, len(keys))
    n = len(members)
    found = [
        _numeric(f.name, f.label, numbers[:n, i], numbers[n:, i])
        for i, f in enumerate(plan.features)
    ]
    found += _best_values(names, strings[:n], strings[n:])
    found.sort(key=lambda d: (-d.score, d.feature))
    return found[:first]


def _numeric(name: str, label: str, a: np.ndarray, b: np.ndarray) -> Differentiator:
    return Differentiator(
        feature=name, label=label, value=None, difference=standardized_difference(a, b),
        segment_value=_mean(a), others_value=_mean(b),
    )  # fmt: skip


def _best_values(names: list[str], a: np.ndarray, b: np.ndarray) -> list[Differentiator]:
    """Per string attribute, its value whose share differs most."""
    best: dict[str, Differentiator] = {}
    for i, name in enumerate(names):
        attribute, _, value = name.partition("=")
        d = Differentiator(
            feature=attribute, label=attribute, value=value,
            difference=share_difference(a[:, i], b[:, i]),
            segment_value=_mean(a[:, i]), others_value=_mean(b[:, i]),
        )  # fmt: skip
        if attribute not in best or d.score > best[attribute].score:
            best[attribute] = d
    return list(best.values())


def _mean(x: np.ndarray) -> float:
    known = x[~np.isnan(x)]
    return float(np.mean(known)) if len(known) else float("nan")
