"""One training run of a predictive model: read the audience's features and outcomes as of
now, fit the calibrated pipeline (`scoring.train_model`, in a thread), measure the holdout,
put the published points model of the same entity on the same holdout rows, and store the
version with its skops artifact and metadata in one transaction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from graph_schema.model import GraphSchema
from scoring import ScoringError, TrainingResult, compare_scorers, model_to_bytes, score_profile
from scoring import train_model as fit
from server.features.plan import FeaturePlan, plan_features
from server.leads import store as points_store
from server.leads.compile import compile_model
from server.leads.run import read_facts, rule_facts
from server.predict import features, store
from server.predict.compile import CompiledPredict, compile_predict
from server.predict.store import LeadModelRecord, LeadVersionRecord
from server.store.db import Db

Publish = Callable[[dict[str, Any]], Awaitable[None]]


class NotTrainable(Exception):
    """The definition no longer compiles, or the data cannot train a model (one class only,
    too few rows): a message for the marketer, not a crash to retry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictEnv:
    db: Db
    schema: GraphSchema
    publish: Publish | None = None
    batch_size: int = 5_000
    # count activities by their category values too (100 features on the demo instead of 50);
    # benches turn it off for the issue's ~50 features
    category_features: bool = True


@dataclass(slots=True)
class Progress:
    env: PredictEnv
    model_id: str
    kind: str  # "train" or "score"
    started: float

    async def __call__(self, phase: str, percent: int = 0, **extra: Any) -> None:
        if self.env.publish is not None:
            await self.env.publish({
                "modelId": self.model_id, "kind": self.kind, "phase": phase, "percent": percent,
                "seconds": round(time.monotonic() - self.started, 3), **extra,
            })  # fmt: skip


def plan_for(
    schema: GraphSchema, compiled: CompiledPredict, max_hops: int,
    categories: dict[tuple[str, str], tuple[str, ...]],
) -> FeaturePlan:  # fmt: skip
    return plan_features(schema, compiled.entity.name, exclude=compiled.exclude,
                         categories=categories, max_hops=max_hops)  # fmt: skip


async def train(
    env: PredictEnv, model_id: str, actor: str, now: datetime | None = None
) -> LeadVersionRecord | None:
    """Train the model's current definition into its next version. None when the model does
    not exist. Raises NotTrainable (published as phase FAILED first), Neo4j errors."""
    at = now or datetime.now(UTC)
    model = await store.get_model(env.db, model_id)
    if model is None:
        return None
    progress = Progress(env, model_id, "train", time.monotonic())
    try:
        return await _train(env, model, actor, at, progress)
    except NotTrainable as exc:
        await progress("FAILED", 100, error=str(exc))
        raise


async def _train(
    env: PredictEnv, model: LeadModelRecord, actor: str, at: datetime, progress: Progress
) -> LeadVersionRecord:
    compiled, problems = compile_predict(model.spec, env.schema, now=at)
    if compiled is None:
        raise NotTrainable("; ".join(f"{p.code}: {p.message}" for p in problems))
    await progress("READING")
    keys = await features.audience_keys(env.db, compiled)
    categories = await features.discover_categories(
        env.db, env.schema, compiled.entity.name, model.spec.max_hops
    ) if env.category_features else {}  # fmt: skip
    plan = plan_for(env.schema, compiled, model.spec.max_hops, categories)

    async def extracted(done: int) -> None:
        await progress("EXTRACTING", 100 * done // max(len(keys), 1), rows=len(keys))

    await extracted(0)
    matrix = await features.feature_matrix(env.db, env.schema, plan, keys, at, extracted)
    outcome = await features.outcomes(env.db, compiled, keys)
    await progress("TRAINING", 0, rows=len(keys), positives=int(outcome.sum()))
    name = f"{compiled.entity.name}.{compiled.outcome.name}"
    try:
        result = await asyncio.to_thread(fit, matrix, outcome, outcome_name=name)
    except ScoringError as exc:
        raise NotTrainable(str(exc)) from exc
    await progress("COMPARING")
    points = await _points_on_holdout(env, compiled, keys, result, at)
    await progress("SAVING")
    artifact = await asyncio.to_thread(model_to_bytes, result.model)
    saved = await store.save_version(
        env.db, model.id, model.spec, result.model.metadata.to_dict(), points, categories,
        artifact, actor, at,
    )  # fmt: skip
    await progress("DONE", 100, version=saved.version)
    return saved


async def _points_on_holdout(
    env: PredictEnv, compiled: CompiledPredict, keys: list[features.Key],
    result: TrainingResult, at: datetime,
) -> dict[str, Any] | None:  # fmt: skip
    """The published points model of the same entity scored on the holdout rows, with the
    same metrics; None when no points model is published for the entity."""
    found = [m for m in await points_store.published_models(env.db)
             if m.entity == compiled.entity.name]  # fmt: skip
    if not found or found[0].published_version is None:
        return None
    points_model, number = found[0], found[0].published_version
    version = await points_store.get_version(env.db, points_model.id, number)
    if version is None:
        return None
    rules, _ = compile_model(version.spec, env.schema, now=at)
    if rules is None:  # the schema changed under it: nothing to compare
        return None
    facts = await read_facts(env.db, rules)
    by_text = {str(k): k for k in keys}
    scores = [score_profile(rules.points, rule_facts(rules, facts, by_text[k])).score
              for k in result.holdout.keys]  # fmt: skip
    both = compare_scorers(result.holdout_outcome, result.holdout_probabilities,
                           np.asarray(scores, dtype=np.float64))  # fmt: skip
    return {"modelId": points_model.id, "name": points_model.name, "version": version.version,
            "metrics": both.metrics[1].to_dict()}  # fmt: skip
