"""A stored predictive model trained and run through the server's code (the worker jobs'
functions, without arq) on the demo's leads (the database is wiped).

    python -m bench.scoring.predict_run --customers 5000

Imports the lead part of the demo with `Lead` as a profile entity, publishes and runs the
points model of tests/predict, then trains the predictive model of `Lead.converted` (timing
each phase of the run), prints its holdout metrics beside the points model's on the same
rows, publishes it and scores every lead twice (the second run writes nothing new).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import neo4j
import numpy as np

from graph_schema import load_schema
from scoring import FeatureMatrix
from server.leads import store as points_store
from server.leads.run import ScoreEnv, score_model
from server.leads.schema_attributes import with_score_attributes
from server.leads.spec import GradeSpec, ModelSpec, RuleFrequency, RuleSpec
from server.predict import features, store
from server.predict.compile import compile_predict
from server.predict.score import load_version, predict, score
from server.predict.spec import PredictSpec
from server.predict.train import PredictEnv, plan_for, train
from server.settings import get_settings
from server.store import Db, ensure_schema
from tests.conftest import wipe_graph
from tests.predict.conftest import import_demo, write_lead_schema
from tests.predict.test_api import POINTS, PREDICT


def points_spec() -> ModelSpec:
    p: dict[str, Any] = POINTS
    return ModelSpec(
        audience=p["audience"],
        rules=tuple(RuleSpec(condition=r["condition"], points=r["points"],
                             frequency=RuleFrequency(r.get("frequency", "ONCE")), cap=r.get("cap"))
                    for r in p["rules"]),
        grades=tuple(GradeSpec(name=g["name"], min_score=g.get("min"), max_score=g.get("max"))
                     for g in p["grades"]),
        sales_ready_threshold=p["salesReadyThreshold"],
    )  # fmt: skip


def predict_spec() -> PredictSpec:
    p: dict[str, Any] = PREDICT
    return PredictSpec(audience=p["audience"], outcome=p["outcome"], exclude=tuple(p["exclude"]),
                       max_hops=p["maxHops"])  # fmt: skip


class Phases:
    """Seconds spent in each progress phase of a run (from the run's own events)."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    async def __call__(self, event: dict[str, Any]) -> None:
        if not self.marks or self.marks[-1][0] != event["phase"]:
            self.marks.append((event["phase"], time.monotonic()))

    def lines(self) -> list[str]:
        pairs = zip(self.marks, self.marks[1:], strict=False)
        return [f"  {a}: {t2 - t1:.2f} s" for (a, t1), (_, t2) in pairs]


def _metrics(name: str, m: dict[str, Any]) -> str:
    brier = f", Brier {m['brier']:.3f}" if m.get("brier") is not None else ""
    return (f"{name}: ROC AUC {m['roc_auc']:.3f}, precision top 10% {m['precision_at_10']:.3f}, "
            f"top 20% {m['precision_at_20']:.3f}{brier} ({m['rows']} rows, "
            f"{m['positives']} positive)")  # fmt: skip


async def predict_many(db: Db, schema: Any, model_id: str, version: Any, rows: int) -> None:
    """The scoring run's model work on `rows` leads: the demo's feature rows drawn with
    replacement (a real distribution without a graph of that size)."""
    compiled, _ = compile_predict(version.spec, schema, now=_now())
    assert compiled is not None
    keys = await features.audience_keys(db, compiled)
    plan = plan_for(schema, compiled, version.spec.max_hops, version.categories)
    matrix = await features.feature_matrix(db, schema, plan, keys, _now())
    picked = np.random.default_rng(0).integers(0, len(keys), rows)
    big = FeatureMatrix(tuple(str(i) for i in range(rows)), matrix.names,
                        matrix.values[picked], matrix.labels)  # fmt: skip
    trained = await load_version(db, model_id, version.version)
    assert trained is not None
    started = time.monotonic()
    found = predict(trained, big)
    seconds = time.monotonic() - started
    print(f"predict + top 5 factors for {len(found.scores):,} rows: {seconds:.1f} s")


async def run(schema_file: Path, rows: int) -> None:
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    schema = with_score_attributes(load_schema(schema_file))
    async with neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    ) as driver:
        db = Db(driver, settings.neo4j_database)
        await ensure_schema(db)
        points = await points_store.create_model(db, "points", "points", "", points_spec(),
                                                 "Lead", (), "bench", _now())  # fmt: skip
        await points_store.publish_model(db, points.id, _now())
        started = time.monotonic()
        await score_model(ScoreEnv(db=db, schema=schema), points.id)
        print(f"points model run: {time.monotonic() - started:.1f} s")

        phases = Phases()
        env = PredictEnv(db=db, schema=schema, publish=phases)
        model = await store.create_model(db, "m", "m", "", predict_spec(), "Lead", (), "b", _now())
        started = time.monotonic()
        version = await train(env, model.id, "bench")
        assert version is not None
        print(f"training: {time.monotonic() - started:.1f} s, "
              f"{len(version.metadata['feature_names'])} features, "
              f"artifact {version.artifact_bytes} bytes")  # fmt: skip
        print("\n".join(phases.lines()))
        print(_metrics("predictive", version.metadata["metrics"]))
        if version.points:
            print(_metrics("points model", version.points["metrics"]))
        for bin_ in version.metadata["metrics"]["reliability"]:
            print(
                f"  [{bin_['low']:.1f}, {bin_['high']:.1f}): {bin_['count']} leads, "
                f"predicted {bin_['mean_predicted']:.2f} observed {bin_['observed_rate']:.2f}"
            )
        await store.publish_version(db, model.id, version.version, _now())
        if rows:
            await predict_many(db, schema, model.id, version, rows)
        for label in ("first scoring run", "second scoring run"):
            phases.marks.clear()
            started = time.monotonic()
            done = await score(env, model.id)
            assert done is not None
            print(f"{label}: {time.monotonic() - started:.1f} s, scored {done.scored}, "
                  f"changed {done.changed}")  # fmt: skip
            print("\n".join(phases.lines()))


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument(
        "--predict-rows",
        type=int,
        default=0,
        help="also time the model work of a scoring run on this many rows",
    )
    args = parser.parse_args()
    n = args.customers
    settings = get_settings()
    with tempfile.TemporaryDirectory() as folder:
        schema_file = write_lead_schema(Path(folder))
        with neo4j.GraphDatabase.driver(
            settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
        ) as driver:
            wipe_graph(driver)
            started = time.monotonic()
            import_demo(driver, schema_file, Path(folder) / "demo", n)
            print(f"imported the lead part of {n} demo customers: "
                  f"{time.monotonic() - started:.1f} s")  # fmt: skip
        asyncio.run(run(schema_file, args.predict_rows))


if __name__ == "__main__":
    main()
