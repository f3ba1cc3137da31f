"""Features from the real Neo4j, checked against the demo CSV files; then the demo lead model
trained end to end and compared with the points model on the same holdout."""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import neo4j
import numpy as np
import pytest

from bench.scoring.lead_demo import LeadRun, lead_schema, plan_leads, run_leads
from graph_schema.demo import generate_demo
from graph_schema.importer import import_directory
from scoring import explain_rows, load_model, predict_probabilities, save_model
from server.features import extract_features, profile_keys
from tests.conftest import wipe_graph

pytestmark = pytest.mark.services

TODAY = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
CUSTOMERS = 1_500


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lead-demo")
    generate_demo(folder, customers=CUSTOMERS, seed=3, today=TODAY)
    return folder


@pytest.fixture(scope="module")
def lead_graph(
    neo4j_driver: neo4j.Driver, graph_lock_path: Path, demo_dir: Path
) -> Iterator[neo4j.Driver]:
    """The lead part of the demo imported once for the module, under the shared graph lock."""
    with graph_lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            wipe_graph(neo4j_driver)
            import_directory(neo4j_driver, lead_schema(), demo_dir)
            yield neo4j_driver
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def lead_run(lead_graph: neo4j.Driver) -> LeadRun:
    return run_leads(lead_graph, lead_schema(), now=NOW)


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def email_oracle(folder: Path, now: dt.datetime) -> dict[str, dict[str, float]]:
    """Per lead, from the CSV files alone: email counts, clicks in 30 days, recency."""
    owner = {r["leadId"]: r["customerId"] for r in rows(folder, "leads.csv")}
    events: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for r in rows(folder, "email_events.csv"):
        age = (now - dt.datetime.fromisoformat(r["at"])).total_seconds() / 86_400
        if age >= 0:
            events[r["customerId"]].append((age, r["type"]))
    out = {}
    for lead, customer in owner.items():
        mine = events[customer]
        out[lead] = {
            "EmailEvent.count_all": len(mine),
            "EmailEvent.type=click.count_30d": sum(a <= 30 and t == "click" for a, t in mine),
            "EmailEvent.count_7d": sum(a <= 7 for a, _ in mine),
            "EmailEvent.days_since_last": min((a for a, _ in mine), default=3650.0),
        }
    return out


def test_features_equal_counts_from_the_csv_files(lead_graph: neo4j.Driver, demo_dir: Path) -> None:
    schema = lead_schema()
    plan = plan_leads(lead_graph, schema)
    keys = profile_keys(lead_graph, plan.profile)
    matrix = extract_features(lead_graph, schema, plan, keys, now=NOW, batch_size=250).matrix
    expected = email_oracle(demo_dir, NOW)
    assert set(matrix.keys) == set(expected)
    for name in expected[matrix.keys[0]]:
        found = dict(zip(matrix.keys, matrix.column(name).tolist(), strict=True))
        assert found == pytest.approx({k: v[name] for k, v in expected.items()}), name
    assert not np.isnan(matrix.column("EmailEvent.count_all")).any()


def test_a_past_now_ignores_later_records(lead_graph: neo4j.Driver, demo_dir: Path) -> None:
    schema, past = lead_schema(), NOW - dt.timedelta(days=30)
    plan = plan_leads(lead_graph, schema)
    keys = profile_keys(lead_graph, plan.profile)[:200]
    matrix = extract_features(lead_graph, schema, plan, keys, now=past).matrix
    expected = email_oracle(demo_dir, past)
    assert matrix.column("EmailEvent.count_all").tolist() == [
        expected[k]["EmailEvent.count_all"] for k in matrix.keys]  # fmt: skip


def test_unknown_keys_give_missing_rows(lead_graph: neo4j.Driver) -> None:
    schema = lead_schema()
    plan = plan_leads(lead_graph, schema)
    matrix = extract_features(lead_graph, schema, plan, ["nope", "L00000001"], now=NOW).matrix
    assert np.isnan(matrix.values[0]).all()
    assert not np.isnan(matrix.column("EmailEvent.count_all")[1])


def test_the_demo_lead_model_beats_the_points_model(lead_run: LeadRun) -> None:
    predictive, points = lead_run.comparison.metrics
    assert predictive.roc_auc >= 0.8
    assert predictive.roc_auc > points.roc_auc
    assert predictive.rows == points.rows == len(lead_run.result.holdout.keys)
    assert lead_run.result.model.metadata.outcome == "Lead.converted"


def test_demo_explanations_add_up_and_the_model_round_trips(
    lead_run: LeadRun, tmp_path: Path
) -> None:
    model, holdout = lead_run.result.model, lead_run.result.holdout
    for row in explain_rows(model, holdout.rows(range(10)), top=0):
        assert sum(c.points for c in row.contributions) == pytest.approx(row.score - row.base_score)
    loaded = load_model(save_model(model, tmp_path / "lead.skops"))
    assert predict_probabilities(loaded, holdout) == pytest.approx(
        lead_run.result.holdout_probabilities)  # fmt: skip


def test_parallel_batches_give_the_same_rows(lead_graph: neo4j.Driver) -> None:
    schema = lead_schema()
    plan = plan_leads(lead_graph, schema)
    keys = profile_keys(lead_graph, plan.profile)
    one = extract_features(lead_graph, schema, plan, keys, now=NOW, batch_size=100).matrix
    two = extract_features(lead_graph, schema, plan, keys, now=NOW, batch_size=70, workers=2)
    assert two.batches == -(-len(keys) // 70)
    assert np.array_equal(one.values, two.matrix.values, equal_nan=True)
