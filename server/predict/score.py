"""One scoring run of a published predictive model: features of the audience as of now, the
calibrated probability, its 0-100 score and the five features that moved it most, written
onto the profiles that changed, with a history entry when the score changed.

Idempotent as points runs: values are compared with what the profiles hold, so a second run
over the same data writes nothing. Profiles that left the audience lose their prediction.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from graph_schema import quote_identifier as q
from graph_schema.model import Entity
from scoring import FeatureMatrix, ScoringError, TrainedModel, predict_probabilities, to_scores
from scoring.explain import top_contributions
from server.leads import graph as leads_graph
from server.leads import schema_attributes as a
from server.leads.records import ScoreRunRecord
from server.predict import features, store
from server.predict.artifacts import MODELS
from server.predict.compile import compile_predict
from server.predict.train import PredictEnv, Progress, plan_for
from server.store.db import Db, Tx
from server.store.evaluate import execute_read

TOP_FACTORS = 5
# Batches of distinct profiles, two transactions at once: they never touch the same node, and
# Community runs each on one core (100k predictions: see docs/scoring.md, "Writing back").
WRITE_BATCH = 10_000
WRITERS = 2
MOVED = 0.001  # a stored probability is rewritten when it moved at least this much


class NotScorable(Exception):
    """The published version no longer fits the schema or its artifact cannot be read."""


@dataclass(frozen=True, slots=True)
class Prediction:
    probability: float
    score: int
    factors: list[int]  # positions in the version's feature names, largest effect first
    points: list[float]
    log_odds: list[float]
    values: list[float]  # NaN: missing


async def load_version(db: Db, model_id: str, version: int) -> TrainedModel | None:
    """The trained model of a version, deserialised once per process."""
    return await MODELS.get(store.version_id(model_id, version),
                            lambda: store.read_artifact(db, model_id, version))  # fmt: skip


def predict(model: TrainedModel, matrix: FeatureMatrix) -> list[Prediction]:
    """Probabilities, scores and top factors of every row. Raises ScoringError."""
    probabilities = predict_probabilities(model, matrix)
    scores = to_scores(probabilities).tolist()
    top = top_contributions(model, matrix, top=TOP_FACTORS)
    # rounded for all rows at once: stable across reruns and short in the store
    columns = zip(np.round(probabilities, 6).tolist(), scores, top.features.tolist(),
                  np.round(top.points, 3).tolist(), np.round(top.log_odds, 4).tolist(),
                  np.round(top.values, 6).tolist(), strict=True)  # fmt: skip
    return [Prediction(p, int(s), f, pt, lo, v) for p, s, f, pt, lo, v in columns]


async def score(
    env: PredictEnv, model_id: str, now: datetime | None = None
) -> ScoreRunRecord | None:
    """Score the audience with the published version. None when the model is missing or not
    published. Raises NotScorable (published as phase FAILED first), Neo4j errors."""
    progress = Progress(env, model_id, "score", time.monotonic())
    try:
        return await _score(env, model_id, now, progress)
    except NotScorable as exc:
        await progress("FAILED", 100, error=str(exc))
        raise


async def _score(
    env: PredictEnv, model_id: str, now: datetime | None, progress: Progress
) -> ScoreRunRecord | None:
    at = now or datetime.now(UTC)
    at = at.replace(microsecond=at.microsecond // 1000 * 1000)
    model = await store.get_model(env.db, model_id)
    if model is None or model.published_version is None:
        return None
    version = await store.get_version(env.db, model_id, model.published_version)
    if version is None:
        raise NotScorable(f"version {model.published_version} is missing")
    compiled, problems = compile_predict(version.spec, env.schema, now=at)
    if compiled is None:
        raise NotScorable("; ".join(f"{p.code}: {p.message}" for p in problems))
    await progress("READING")
    try:
        trained = await load_version(env.db, model_id, version.version)
    except ScoringError as exc:
        raise NotScorable(str(exc)) from exc
    if trained is None:
        raise NotScorable(f"version {version.version} has no artifact")
    keys = await features.audience_keys(env.db, compiled)
    plan = plan_for(env.schema, compiled, version.spec.max_hops, version.categories)

    async def extracted(done: int) -> None:
        await progress("EXTRACTING", 100 * done // max(len(keys), 1), rows=len(keys))

    await extracted(0)
    matrix = await features.feature_matrix(env.db, env.schema, plan, keys, at, extracted)
    await progress("PREDICTING")
    try:
        predictions = await asyncio.to_thread(predict, trained, matrix)
    except ScoringError as exc:  # the schema's features no longer match the trained ones
        raise NotScorable(str(exc)) from exc
    await _ensure_index(env.db, compiled.entity)
    previous = await _stored(env.db, compiled.entity)
    by = store.version_id(model_id, version.version)
    rows = _changes(keys, predictions, previous, by)
    await progress("WRITING", 0, rows=len(rows))
    written = 0
    gate = asyncio.Semaphore(WRITERS)

    async def write(batch: list[dict[str, Any]]) -> None:
        nonlocal written
        async with gate:
            await _write(env.db, compiled.entity, model_id, version.version, batch, at)
        written += len(batch)
        await progress("WRITING", 100 * written // len(rows), rows=len(rows))

    size = max(env.batch_size, WRITE_BATCH)
    await asyncio.gather(*(write(rows[i : i + size]) for i in range(0, len(rows), size)))
    run = ScoreRunRecord(
        id=uuid.uuid4().hex, model_id=model_id, version=version.version, at=at,
        scored=len(keys), changed=sum(1 for r in rows if r["score"] is not None),
        cleared=sum(1 for r in rows if r["score"] is None), newly_sales_ready=0,
        seconds=round(time.monotonic() - progress.started, 3),
    )  # fmt: skip
    await leads_graph.record_run(env.db, run)
    await store.mark_run(env.db, model_id, at)
    await progress("DONE", 100, scored=run.scored, changed=run.changed)
    return run


def _changes(
    keys: list[features.Key], predictions: list[Prediction],
    previous: dict[Any, dict[str, Any]], by: str,
) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    for key, p in zip(keys, predictions, strict=True):
        old = previous.get(key, {})
        row = {"key": key, "probability": p.probability, "score": p.score, "factors": p.factors,
               "points": p.points, "logOdds": p.log_odds, "values": p.values, "by": by}  # fmt: skip
        historic = old.get("score") != p.score
        if historic or old.get("by") != by or _moved(old, p):
            rows.append(row | {"historic": historic})
    for key in previous.keys() - set(keys):
        rows.append({"key": key, "probability": None, "score": None, "factors": None,
                     "points": None, "logOdds": None, "values": None, "by": None,
                     "historic": True})  # fmt: skip
    return rows


def _moved(old: dict[str, Any], new: Prediction) -> bool:
    """Whether a prediction differs from the stored one by more than the passing of time:
    features count days since events, so a rerun moments later moves probabilities in the
    sixth decimal; those are not rewritten (a rerun over unchanged data writes nothing)."""
    if old.get("probability") is None or abs(old["probability"] - new.probability) >= MOVED:
        return True
    return list(old.get("factors") or ()) != new.factors


async def _ensure_index(db: Db, entity: Entity) -> None:
    text = f"CREATE INDEX IF NOT EXISTS FOR (p:{q(entity.label)}) ON (p.{q(a.PREDICTED_SCORE)})"
    await db.driver.execute_query(text, database_=db.database)


async def _stored(db: Db, entity: Entity) -> dict[Any, dict[str, Any]]:
    """What earlier runs wrote, by key, found through the `predictedScore` index."""
    p = "p"
    values = ", ".join(f"{p}.{q(x)}" for x in (entity.key, a.PREDICTED_SCORE, a.LEAD_PROBABILITY,
                                               a.FACTORS, a.PREDICTED_BY))  # fmt: skip
    text = (
        f"MATCH ({p}:{q(entity.label)}) WHERE {p}.{q(a.PREDICTED_SCORE)} IS NOT NULL "
        f"RETURN collect([{values}]) AS rows"
    )
    found = (await execute_read(db, text, {}, features.READ_TIMEOUT_S))[0]["rows"]
    names = ("score", "probability", "factors", "by")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in found}


# in the statement that writes the profile: the rows cross Bolt and are decoded once (30k
# predictions: 17% less Neo4j CPU and half the client's than two statements over the rows)
HISTORY = (
    "WITH row WHERE row.historic "
    "CREATE (:_ScoreHistory {modelId: $modelId, key: row.key, at: $at, version: $version, "
    " score: row.score, probability: row.probability, grade: null, salesReady: false})"
)


async def _write(
    db: Db, entity: Entity, model_id: str, version: int, rows: list[dict[str, Any]],
    at: datetime,
) -> None:  # fmt: skip
    """One transaction: the rows' predictions on their profiles and a history entry for each
    changed score (of a profile that exists)."""
    text = (
        f"UNWIND $rows AS row MATCH (p:{q(entity.label)} {{{q(entity.key)}: row.key}}) "
        f"SET p.{q(a.LEAD_PROBABILITY)} = row.probability, "
        f"p.{q(a.PREDICTED_SCORE)} = row.score, p.{q(a.FACTORS)} = row.factors, "
        f"p.{q(a.FACTOR_POINTS)} = row.points, p.{q(a.FACTOR_LOG_ODDS)} = row.logOdds, "
        f"p.{q(a.FACTOR_VALUES)} = row.values, "
        f"p.{q(a.PREDICTED_BY)} = row.by {HISTORY}"
    )

    async def work(tx: Tx) -> None:
        params = {"rows": rows, "modelId": model_id, "at": at, "version": version}
        await (await tx.run(text, params)).consume()

    await db.write(work)
