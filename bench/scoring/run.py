"""Lead scoring speed and quality, with baselines side by side.

    python -m bench.scoring.run            # 5k demo customers in Neo4j; 1M x 50 training
    python -m bench.scoring.run --short    # 1.5k customers; 50k x 50, for CI
    python -m bench.scoring.run --reuse    # keep the graph already imported by a run

Phases, each timed on its own:
1. feature extraction from the Neo4j of NEO4J_URI (the demo's lead part, imported first; the
   database is wiped) -- reported per profile and extrapolated to 1M;
2. quality on the demo holdout: the calibrated model, a plain LogisticRegression (same
   features and preprocessing, no calibration) and the points model;
3. training on N synthetic rows x F features (counts and money with a planted signal) and
   scoring the N rows, calibrated pipeline vs the plain LogisticRegression.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from typing import Any, TypeVar

import neo4j
import numpy as np
from sklearn.metrics import roc_auc_score

from bench.scoring.lead_demo import LeadRun, lead_schema, run_leads
from graph_schema.demo import generate_demo
from graph_schema.importer import import_directory
from scoring import FeatureMatrix, build_matrix, predict_probabilities, to_scores, train_model
from scoring.explain import contributions
from scoring.matrix import Floats
from scoring.metrics import brier_score
from scoring.model import TrainingConfig, build_pipeline
from server.settings import get_settings
from tests.conftest import wipe_graph

T = TypeVar("T")
TODAY = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def plain_logistic(config: TrainingConfig) -> Any:
    """The baseline: the same pipeline without calibration."""
    return build_pipeline(config).estimator


def synthetic(rows: int, features: int, seed: int = 0) -> tuple[FeatureMatrix, Floats]:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=rows)
    rate = np.exp(0.4 * latent[:, None] * rng.uniform(0, 1, features // 2))
    counts = rng.poisson(rate * rng.uniform(0.5, 5, features // 2))
    money = rng.lognormal(3 + 0.2 * latent[:, None], 1, (rows, features - features // 2))
    outcome = (rng.random(rows) < 1 / (1 + np.exp(1 - 1.5 * latent))).astype(np.float64)
    names = [f"f{i:02d}" for i in range(features)]
    keys = [str(i) for i in range(rows)]
    return build_matrix(keys, names, np.hstack([counts, money])), outcome


def import_demo(driver: neo4j.Driver, customers: int) -> float:
    started = time.perf_counter()
    wipe_graph(driver)
    with tempfile.TemporaryDirectory() as folder:
        generate_demo(folder, customers=customers, seed=3, today=TODAY)
        import_directory(driver, lead_schema(), folder)
    return time.perf_counter() - started


def quality(run: LeadRun) -> list[str]:
    result = run.result
    train = result.training_rows
    plain = plain_logistic(TrainingConfig()).fit(run.matrix.values[train], run.outcome[train])
    plain_p = plain.predict_proba(result.holdout.values)[:, 1]
    plain_auc = roc_auc_score(result.holdout_outcome, plain_p)
    lines = run.comparison.lines()
    lines.append(f"{'plain LR auc':<14}{plain_auc:>14.3f}")
    plain_brier = brier_score(result.holdout_outcome, plain_p)
    lines.append(f"brier: calibrated {result.model.metadata.metrics.brier:.4f}, "
                 f"plain LR {plain_brier:.4f}")  # fmt: skip
    return lines


def speed(rows: int, features: int) -> list[str]:
    matrix, outcome = synthetic(rows, features)
    config = TrainingConfig()
    result, train_s = timed(lambda: train_model(matrix, outcome, config=config))
    plain, plain_s = timed(lambda: plain_logistic(config).fit(matrix.values, outcome))
    model = result.model
    _, score_s = timed(lambda: to_scores(predict_probabilities(model, matrix)))
    _, plain_score_s = timed(lambda: plain.predict_proba(matrix.values))
    _, explain_s = timed(lambda: contributions(model, matrix))
    return [
        f"train {rows:,} x {features}: calibrated {train_s:.1f}s, plain LR {plain_s:.1f}s "
        f"(ratio {train_s / plain_s:.1f}x)",
        f"score {rows:,}: calibrated {score_s:.2f}s, plain LR {plain_score_s:.2f}s "
        f"(ratio {score_s / max(plain_score_s, 1e-9):.1f}x); all contributions {explain_s:.2f}s",
        f"holdout AUC on synthetic rows {model.metadata.metrics.roc_auc:.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="small sizes, for CI")
    parser.add_argument("--reuse", action="store_true", help="use the graph as imported")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="parallel extraction sessions")
    args = parser.parse_args()
    customers = args.customers or (1_500 if args.short else 5_000)
    rows = args.rows or (50_000 if args.short else 1_000_000)
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        if not args.reuse:
            print(f"import {customers:,} demo customers (lead part): "
                  f"{import_demo(driver, customers):.1f}s")  # fmt: skip
        run, total = timed(lambda: run_leads(driver, lead_schema(), now=NOW, workers=args.workers))
    profiles, width = len(run.matrix.keys), len(run.matrix.names)
    per = run.extraction_seconds / profiles
    print(f"extract {profiles:,} leads x {width} features: {run.extraction_seconds:.1f}s "
          f"({per * 1e3:.2f} ms/profile, ~{per * 1e6 / 60:.0f} min per 1M); "
          f"extract+train+points {total:.1f}s")  # fmt: skip
    print("\n".join(quality(run)))
    print("\n".join(speed(rows, args.features)))


if __name__ == "__main__":
    main()
