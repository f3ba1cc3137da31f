"""Demo data: deterministic for a seed, realistic enough to segment on, importable."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import neo4j
import pytest

from graph_schema import default_schema
from graph_schema.demo import COHORTS_FILE, generate_demo, run_demo

TODAY = date(2026, 3, 15)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    generate_demo(folder, customers=2_000, seed=7, today=TODAY)
    return folder


def test_same_seed_same_files_other_seed_other_files(demo: Path, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again", customers=2_000, seed=7, today=TODAY)
    other = generate_demo(tmp_path / "other", customers=2_000, seed=8, today=TODAY)
    assert digests(again.directory) == digests(demo)
    different = digests(other.directory)
    assert all(different[n] != h for n, h in digests(demo).items() if n != "products.csv") or (
        different != digests(demo)
    )
    assert different["customers.csv"] != digests(demo)["customers.csv"]


def test_files_match_the_default_schema(demo: Path) -> None:
    schema = default_schema()
    for entity in schema.entities:
        assert entity.csv is not None
        header = rows(demo, entity.csv)[0].keys()
        assert {a.name for a in entity.attributes} <= set(header), entity.name
    for rel in schema.relationships:
        assert rel.csv is not None
        header = rows(demo, rel.csv)[0].keys()
        assert {rel.source_column, rel.target_column} <= set(header), rel.type


def test_realistic_shape(demo: Path) -> None:
    customers = rows(demo, "customers.csv")
    orders = rows(demo, "orders.csv")
    assert len(customers) == 2_000
    assert 7 <= len(orders) / len(customers) <= 13  # about ten orders each
    assert 0.7 <= len(rows(demo, "cases.csv")) / len(customers) <= 1.3  # about one case each
    events = sum(len(rows(demo, f)) for f in ("page_views.csv", "email_events.csv",
                 "web_sessions.csv", "event_registrations.csv"))  # fmt: skip
    assert 14 <= events / len(customers) <= 26  # about twenty events each

    totals = sorted(float(o["total"]) for o in orders)
    median, p99 = totals[len(totals) // 2], totals[int(len(totals) * 0.99)]
    assert 30 < median < 80
    assert p99 > 4 * median  # lognormal: a long right tail

    now = datetime(TODAY.year, TODAY.month, TODAY.day).astimezone()
    placed = [datetime.fromisoformat(o["placedAt"]) for o in orders]
    assert max(placed) <= now
    assert sum(p > now - timedelta(days=90) for p in placed) > 0.1 * len(orders)

    cases = rows(demo, "cases.csv")
    escalated = {c["customerId"] for c in cases if c["escalated"] == "true"}
    assert 0.02 < len(escalated) / len(customers) < 0.25  # a minority

    assert any(c["phone"] == "" for c in customers)  # optional attributes have nulls
    assert any(c["birthDate"] == "" for c in customers)
    assert any("," in c["name"] and '"' in c["name"] for c in customers)  # edge values


def test_one_primary_contact_per_account(demo: Path) -> None:
    works = rows(demo, "contact_accounts.csv")
    primaries = Counter(w["accountId"] for w in works if w["isPrimary"] == "true")
    accounts = {a["accountId"] for a in rows(demo, "accounts.csv")}
    assert set(primaries) == accounts
    assert set(primaries.values()) == {1}
    roles = Counter(c["role"] for c in rows(demo, "contacts.csv"))
    assert roles["primary"] == len(accounts)


def test_planted_cohorts_are_recorded_and_similar(demo: Path) -> None:
    customers = {c["customerId"]: c for c in rows(demo, "customers.csv")}
    cohorts = rows(demo, COHORTS_FILE)
    assert len({c["cohort"] for c in cohorts}) == 8
    for member in cohorts:
        assert customers[member["customerId"]]["segmentHint"] == member["cohort"]
    by_cohort: dict[str, list[dict[str, str]]] = {}
    for member in cohorts:
        by_cohort.setdefault(member["cohort"], []).append(customers[member["customerId"]])
    for members in by_cohort.values():
        top_city = Counter(m["city"] for m in members).most_common(1)[0][1]
        assert top_city >= 0.7 * len(members)  # members share a place, unlike the population
        assert len({m["loyaltyTier"] for m in members}) == 1


def test_engagement_predicts_lead_conversion(demo: Path) -> None:
    clicks = Counter(
        e["customerId"] for e in rows(demo, "email_events.csv") if e["type"] == "click"
    )
    leads = rows(demo, "leads.csv")
    converted = [clicks[lead["customerId"]] for lead in leads if lead["converted"] == "true"]
    others = [clicks[lead["customerId"]] for lead in leads if lead["converted"] == "false"]
    assert sum(converted) / len(converted) > 2 * sum(others) / len(others)


@pytest.mark.services
def test_run_demo_imports_everything(empty_graph: neo4j.Driver, tmp_path: Path) -> None:
    summary, report = run_demo(empty_graph, tmp_path, customers=300, seed=1, today=TODAY)
    assert report.ok, report.bad_rows
    for entity in default_schema().entities:
        assert entity.csv is not None
        found = empty_graph.execute_query(
            f"MATCH (n:`{entity.label}`) RETURN count(n) AS c"
        ).records[0]["c"]
        assert found == summary.rows[entity.csv], entity.name
    orphans = empty_graph.execute_query(
        "MATCH (o:`Order`) WHERE NOT (o)<-[:PLACED]-(:Customer) RETURN count(o) AS c"
    ).records[0]["c"]
    assert orphans == 0
