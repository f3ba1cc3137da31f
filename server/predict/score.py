"""One scoring run of a published predictive model: features of the audience as of now, the
calibrated probability, its 0-100 score and the five features that moved it most, written
onto the profiles that changed, with a history entry when the score changed (kept on the
profile: `server.leads.packed`).

Idempotent as points runs: values are compared with what the profiles hold, so a second run
over the same data writes nothing. Profiles that left the audience lose their prediction.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from graph_schema import quote_identifier as q
from graph_schema.model import Entity
from scoring import FeatureMatrix, ScoringError, TrainedModel, to_scores
from scoring.explain import predict_explained
from server.leads import graph as leads_graph
from server.leads import packed
from server.leads import schema_attributes as a
from server.leads.packed import Factors
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
class Predictions:
    """Every row's rounded probability, 0-100 score and packed top factors
    (`server.leads.packed.Factors.packed`), as arrays: 1M rows as objects took seconds."""

    probabilities: npt.NDArray[np.float64]
    scores: npt.NDArray[np.int64]
    factors: npt.NDArray[np.float64]  # (rows, 4 * top)

    def factors_of(self, row: int) -> Factors:
        n = self.factors.shape[1] // 4
        part = self.factors[row]
        return Factors([int(f) for f in part[:n]], part[n : 2 * n].tolist(),
                       part[2 * n : 3 * n].tolist(), part[3 * n :].tolist())  # fmt: skip


async def load_version(db: Db, model_id: str, version: int) -> TrainedModel | None:
    """The trained model of a version, deserialised once per process."""
    return await MODELS.get(store.version_id(model_id, version),
                            lambda: store.read_artifact(db, model_id, version))  # fmt: skip


def predict(model: TrainedModel, matrix: FeatureMatrix) -> Predictions:
    """Probabilities, scores and top factors of every row. Raises ScoringError."""
    probabilities, top = predict_explained(model, matrix, top=TOP_FACTORS)
    # rounded for all rows at once: stable across reruns and short in the store
    factors = np.hstack([top.features.astype(np.float64), np.round(top.points, 3),
                         np.round(top.log_odds, 4), np.round(top.values, 6)])  # fmt: skip
    return Predictions(np.round(probabilities, 6), to_scores(probabilities), factors)


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
    with collector_paused():
        previous = await _stored(env.db, compiled.entity)
        rows = _changes(keys, predictions, previous, model_id, version.version, at)
    await progress("WRITING", 0, rows=len(rows))
    written = 0
    gate = asyncio.Semaphore(WRITERS)

    async def write(batch: list[dict[str, Any]]) -> None:
        nonlocal written
        async with gate:
            await _write(env.db, compiled.entity, batch)
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


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused: building 1M rows (a dict and a list each) set it off
    again and again, each pass walking the whole heap: 300k rows took 3.6-6.2 s with it and
    0.7-1.0 s without. The rows form no cycles; the collector resumes after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _changes(
    keys: list[features.Key], predictions: Predictions,
    previous: dict[Any, dict[str, Any]], model_id: str, version: int, at: datetime,
) -> list[dict[str, Any]]:  # fmt: skip
    """The rows to write: profiles whose score, version, probability or factors differ from
    what they hold (with a history `entry` when the score changed), then the profiles that
    left the audience (score null, an entry too)."""
    by = store.version_id(model_id, version)
    entries = {s: packed.history_entry(model_id, at, version, s) for s in range(101)}
    rows = []
    columns = zip(keys, predictions.probabilities.tolist(), predictions.scores.tolist(),
                  predictions.factors.tolist(), strict=True)  # fmt: skip
    for key, probability, score, factors in columns:
        old = previous.get(key, {})
        historic = old.get("score") != score
        if historic or old.get("by") != by or _moved(old, probability, factors):
            entry = entries[score] if historic else None
            rows.append({"key": key, "probability": probability, "score": score,
                         "factors": factors, "by": by, "entry": entry})  # fmt: skip
    for key in previous.keys() - set(keys):
        left = packed.history_entry(model_id, at, version, None)
        rows.append({"key": key, "probability": None, "score": None, "factors": None,
                     "by": None, "entry": left})  # fmt: skip
    return rows


def _moved(old: dict[str, Any], probability: float, factors: list[float]) -> bool:
    """Whether a prediction differs from the stored one by more than the passing of time:
    features count days since events, so a rerun moments later moves probabilities in the
    sixth decimal; those are not rewritten (a rerun over unchanged data writes nothing).
    Profiles holding the former four factor lists (no packed list) are rewritten."""
    if old.get("probability") is None or abs(old["probability"] - probability) >= MOVED:
        return True
    stored = old.get("factors")  # the positions of the packed list
    return stored is None or list(stored) != factors[: len(factors) // 4]


async def _ensure_index(db: Db, entity: Entity) -> None:
    text = f"CREATE INDEX IF NOT EXISTS FOR (p:{q(entity.label)}) ON (p.{q(a.PREDICTED_SCORE)})"
    await db.driver.execute_query(text, database_=db.database)


async def _stored(db: Db, entity: Entity) -> dict[Any, dict[str, Any]]:
    """What earlier runs wrote, by key, found through the `predictedScore` index; of the
    factors only their positions (a quarter of the packed list: 1M rows of 20 numbers took
    the second run's reading from 2 to 14 s of Neo4j CPU)."""
    p = "p"
    pack = f"{p}.{q(a.FACTOR_PACK)}"
    values = ", ".join([*(f"{p}.{q(x)}" for x in (entity.key, a.PREDICTED_SCORE,
                                                  a.LEAD_PROBABILITY)),
                        f"{pack}[..size({pack}) / 4]", f"{p}.{q(a.PREDICTED_BY)}"])  # fmt: skip
    text = (
        f"MATCH ({p}:{q(entity.label)}) WHERE {p}.{q(a.PREDICTED_SCORE)} IS NOT NULL "
        f"RETURN collect([{values}]) AS rows"
    )
    found = (await execute_read(db, text, {}, features.READ_TIMEOUT_S))[0]["rows"]
    names = ("score", "probability", "factors", "by")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in found}


def _write_text(entity: Entity) -> str:
    """The rows' predictions on their profiles, the former four factor lists removed (a
    profile written before the packed list; absent properties cost nothing to remove), a
    history entry appended for each changed score; entries beyond `packed.KEEP` move out
    to `_ScoreHistory` nodes. One statement: the rows cross Bolt and are decoded once."""
    history = f"p.{q(a.PREDICTED_HISTORY)}"
    return (
        f"UNWIND $rows AS row MATCH (p:{q(entity.label)} {{{q(entity.key)}: row.key}}) "
        f"SET p.{q(a.LEAD_PROBABILITY)} = row.probability, "
        f"p.{q(a.PREDICTED_SCORE)} = row.score, p.{q(a.FACTOR_PACK)} = row.factors, "
        f"p.{q(a.PREDICTED_BY)} = row.by "
        f"REMOVE p.{q(a.FACTORS)}, p.{q(a.FACTOR_POINTS)}, p.{q(a.FACTOR_LOG_ODDS)}, "
        f"p.{q(a.FACTOR_VALUES)} "
        f"WITH p, row WHERE row.entry IS NOT NULL "
        f"WITH p, row, coalesce({history}, []) + row.entry AS h "
        f"SET {history} = h[-$keep..] "
        f"WITH row, h WHERE size(h) > $keep "
        f"UNWIND h[..size(h) - $keep] AS e {packed.SPILL}"
    )


async def _write(db: Db, entity: Entity, rows: list[dict[str, Any]]) -> None:
    """One transaction: the rows' predictions and history entries (see `_write_text`)."""
    text = _write_text(entity)

    async def work(tx: Tx) -> None:
        await (await tx.run(text, {"rows": rows, "keep": packed.KEEP})).consume()

    await db.write(work)
