"""One expansion run: read the source and the population, hide part of the source, train on
the rest, score the population with the hidden members among it, measure how many of them the
output would recover, pick the output from the population, summarise.

The summary is what users see with the segment: score histogram and bands of the population,
the reach at each minimum similarity, the features that set the source apart most, and the
holdout precision and lift at the output size.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from graph_schema import GraphSchema
from scoring.expansion import (
    REACH_THRESHOLDS,
    Band,
    histogram,
    holdout_quality,
    output_size,
    reach,
    select_output,
    standardized_difference,
)
from scoring.similarity import SimilarityConfig, score_similarity
from server.expansion import graph as g
from server.expansion.features import choose, expansion_features, one_hot_columns
from server.expansion.progress import FEATURE_SHARE, Send, from_thread, model_progress
from server.features.plan import FeaturePlan
from server.refresh.definitions import DefinitionError
from server.refresh.graph import Graph
from server.refresh.progress import ReportPhase, ignore_phase
from server.refresh.records import ExpansionSpec, Phase

HOLDOUT_SHARE = 0.2  # of the source, hidden before training to measure recovery
MIN_SOURCE = 10  # fewer source members cannot be learned from (nor a holdout taken)
SEED = 0
TOP_FACTORS = 5


@dataclass(frozen=True, slots=True)
class Expansion:
    members: set[g.Key]  # the output, plus the source when the settings say so
    scores: dict[g.Key, float]  # similarity of each output member from the population
    summary: dict[str, Any]


async def expand(
    graph: Graph, schema: GraphSchema, audience: str, spec: ExpansionSpec, now: dt.datetime,
    report: ReportPhase = ignore_phase,
) -> Expansion:  # fmt: skip
    """Compute an expansion now, telling `report` of its phases (READING_FEATURES, HOLDOUT,
    TRAINING, SCORING short of 100: the caller stores the result). Raises DefinitionError
    when the source or population segment is gone, the source is too small, a feature no
    longer exists or the population is empty."""
    await report(Phase.READING_FEATURES, 0)
    source, population = await _read_groups(graph, schema, audience, spec)
    return await expand_groups(graph, schema, audience, source, population, spec, now, report)


async def expand_groups(
    graph: Graph, schema: GraphSchema, audience: str, source: Sequence[g.Key],
    population: Sequence[g.Key], spec: ExpansionSpec, now: dt.datetime,
    report: ReportPhase = ignore_phase,
) -> Expansion:  # fmt: skip
    """`expand` for given source and population keys (disjoint, sorted: deterministic).
    Raises DefinitionError for unknown features."""
    started = time.perf_counter()
    features = expansion_features(schema, audience)
    chosen = choose(features, spec.features)
    if chosen.unknown:
        raise DefinitionError(f"unknown features: {[spec.features[i] for i in chosen.unknown]}")
    keys = [*source, *population]
    plan = features.plan

    async def reading(done: int, total: int) -> None:
        await report(Phase.READING_FEATURES, FEATURE_SHARE * done // total if total else 0)

    rows = (await g.feature_rows(graph, schema, plan, keys, now, reading))[:, chosen.columns]
    values = await g.attribute_columns(graph, plan.profile, chosen.strings, keys)
    await report(Phase.READING_FEATURES, 100)
    string_names, strings = one_hot_columns(plan.profile.name, chosen.strings, values, len(keys))
    rows = np.hstack([rows, strings])
    x_source, x_population = rows[: len(source)], rows[len(source) :]
    names = [plan.features[i].name for i in chosen.columns] + string_names
    read_s = time.perf_counter() - started
    # CPU-bound for seconds to minutes: off the event loop, which must keep renewing the
    # refresh's lease (a blocked loop would let the claim lapse mid-run)
    async with from_thread(report) as send:
        model = await asyncio.to_thread(_model, x_source, x_population, spec.output_percent, send)
    picked = select_output(model.population, output_size(len(population), spec.output_percent))
    scores = {population[i]: float(model.population[i]) for i in picked.tolist()}
    members = set(scores) | (set(source) if spec.include_source else set())
    seconds = {"read": read_s, "total": time.perf_counter() - started}
    summary = {
        "trainedAt": now.isoformat(), "features": names, "sourceSize": len(source),
        "populationSize": len(population), "outputSize": len(picked),
        "scoreHistogram": list(histogram(model.population)),
        "bands": _bands(model.population), "reach": _reach(model.population),
        "topFactors": _factors(names, plan, x_source, x_population),
        "holdout": model.holdout, "labelFrequency": model.label_frequency,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }  # fmt: skip
    return Expansion(members, scores, summary)


async def _read_groups(
    graph: Graph, schema: GraphSchema, audience: str, spec: ExpansionSpec
) -> tuple[list[g.Key], list[g.Key]]:
    source = await g.segment_members(graph, spec.source_id)
    if source is None:
        raise DefinitionError(f"the source segment {spec.source_id} no longer exists")
    if len(source) < MIN_SOURCE:
        raise DefinitionError(f"the source has {len(source)} members; {MIN_SOURCE} are needed")
    if spec.population_id is None:
        everyone = await g.profile_keys(graph, schema.require_entity(audience))
    else:
        found = await g.segment_members(graph, spec.population_id)
        if found is None:
            raise DefinitionError(f"the population segment {spec.population_id} is gone")
        everyone = found
    known = set(source)
    population = [k for k in everyone if k not in known]
    if not population:
        raise DefinitionError("the population has no profile outside the source")
    return source, population


@dataclass(frozen=True, slots=True)
class _Model:
    population: np.ndarray  # similarity of each population row
    label_frequency: float
    holdout: dict[str, Any]


def _model(x_source: np.ndarray, x_population: np.ndarray, percent: float, send: Send) -> _Model:
    """Hide HOLDOUT_SHARE of the source, train on the rest against the population with the
    hidden members in it (unlabelled, as unknown look-alikes are), score everyone, and
    measure how many hidden members the output would recover.

    One training serves both the measure and the members: the output comes from the model
    that was measured, and a second training on the whole source (as before) doubled the
    model work for a fifth more positives (docs/scoring.md, "Expansion speed")."""
    send(Phase.HOLDOUT, 0)
    order = np.random.default_rng(SEED).permutation(len(x_source))
    cut = max(1, round(len(x_source) * HOLDOUT_SHARE))
    hidden, kept = order[:cut], order[cut:]
    candidates = np.vstack([x_population, x_source[hidden]])
    send(Phase.HOLDOUT, 100)
    config = SimilarityConfig(random_state=SEED)
    scored = score_similarity(x_source[kept], candidates, config, model_progress(send))
    n = len(x_population)
    q = holdout_quality(scored.population[n:], scored.population[:n], percent)
    holdout = {
        "hidden": q.hidden, "candidates": q.candidates, "output": q.output,
        "recovered": q.recovered, "precision": q.precision,
        "randomPrecision": q.random_precision, "lift": q.lift,
    }  # fmt: skip
    return _Model(scored.population[:n], scored.label_frequency, holdout)


def _bands(scores: np.ndarray) -> dict[str, int]:
    at_least = dict(zip(REACH_THRESHOLDS[1:], reach(scores, REACH_THRESHOLDS[1:]), strict=True))
    very, similar, somewhat = at_least[0.85], at_least[0.7], at_least[0.55]
    return {
        Band.NOT_SIMILAR.value: len(scores) - somewhat,
        Band.SOMEWHAT_SIMILAR.value: somewhat - similar,
        Band.SIMILAR.value: similar - very,
        Band.VERY_SIMILAR.value: very,
    }


def _reach(scores: np.ndarray) -> list[dict[str, float]]:
    sizes = reach(scores)
    return [{"minSimilarity": t, "size": n} for t, n in zip(REACH_THRESHOLDS, sizes, strict=True)]


def _factors(
    names: list[str], plan: FeaturePlan, x_source: np.ndarray, x_population: np.ndarray
) -> list[dict[str, Any]]:
    """The features whose source mean differs most from the population's (standardised), as
    a model-free reading of what makes the source distinct."""
    labels = {f.name: f.label for f in plan.features}
    found = [
        (name, standardized_difference(x_source[:, i], x_population[:, i]))
        for i, name in enumerate(names)
    ]
    found.sort(key=lambda f: -abs(f[1]))
    return [
        {"feature": n, "label": labels.get(n, n), "difference": round(d, 4)}
        for n, d in found[:TOP_FACTORS]
    ]
