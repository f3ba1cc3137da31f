"""The column path of feature extraction against an oracle written out in Python from raw rows
read with plain MATCH, and against the per-profile Cypher it replaces, on a small demo graph
roughed up with what real data has: missing times, amounts, flags and categories, records
dated after `now` and exactly on window edges, profiles without activities or to-one
neighbours, unknown and repeated keys."""

from __future__ import annotations

import datetime as dt
import fcntl
import math
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import numpy as np
import pytest

from graph_schema import AttrType, Direction, GraphSchema, Step, default_schema
from graph_schema.demo import generate_demo
from graph_schema.importer import import_directory
from server.features import discover_categories, extract_features, plan_features, profile_keys
from server.features.extract import Method
from server.features.plan import NEVER_DAYS, NUMERIC_WINDOW, Activity, FeaturePlan, ToOne
from tests.conftest import wipe_graph

pytestmark = pytest.mark.services

TODAY = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)  # whole milliseconds
NOW_US = dt.datetime(2026, 10, 20, 8, 30, 15, 123_456, tzinfo=dt.UTC)  # microseconds
MS = dt.timedelta(milliseconds=1)


@pytest.fixture(scope="module")
def graph(
    neo4j_driver: neo4j.Driver, graph_lock_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[neo4j.Driver]:
    folder = tmp_path_factory.mktemp("feature-columns")
    generate_demo(folder, customers=150, seed=5, today=TODAY)
    with graph_lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            wipe_graph(neo4j_driver)
            import_directory(neo4j_driver, default_schema(), folder)
            for text in ROUGH_UP:
                neo4j_driver.execute_query(text, now=NOW)
            yield neo4j_driver
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


ROUGH_UP = [
    # missing values (every kind the plan reads)
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '3' REMOVE x.at",
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '4' REMOVE x.type",
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '5' SET x.type = 'bounce'",
    "MATCH (x:Order) WHERE x.orderId ENDS WITH '5' REMOVE x.total",
    "MATCH (x:Order) WHERE x.orderId ENDS WITH '6' REMOVE x.channel",
    "MATCH (x:Case) WHERE x.caseId ENDS WITH '1' REMOVE x.escalated, x.satisfaction",
    "MATCH (x:EventRegistration) WHERE x.registrationId ENDS WITH '2' REMOVE x.attended",
    "MATCH (x:Lead) WHERE x.leadId ENDS WITH '3' REMOVE x.createdOn",
    "MATCH (c:Customer) WHERE c.customerId ENDS WITH '2' REMOVE c.creditBalance, c.createdOn,"
    " c.newsletter",
    # dated after now
    "MATCH (x:Order) WHERE x.orderId ENDS WITH '7' SET x.placedAt = $now + duration('P3D')",
    "MATCH (x:WebSession) WHERE x.sessionId % 9 = 0 SET x.startedAt = $now + duration('PT1S')",
    "MATCH (x:Lead) WHERE x.leadId ENDS WITH '4' SET x.createdOn = date($now) + duration('P1D')",
    "MATCH (c:Customer) WHERE c.customerId ENDS WITH '8' SET c.createdOn = date('2027-02-01')",
    # exactly on the edges: at now, a millisecond after, at a window's start, a millisecond
    # before it; dates on the 30-day edge and a day before it
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '10' SET x.at = $now",
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '20'"
    " SET x.at = $now + duration('PT0.001S')",
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '30' SET x.at = $now - duration('P30D')",
    "MATCH (x:EmailEvent) WHERE x.emailEventId ENDS WITH '40'"
    " SET x.at = $now - duration('P30D') - duration('PT0.001S')",
    "MATCH (x:Order) WHERE x.orderId ENDS WITH '11' SET x.placedAt = $now - duration('P365D')",
    "MATCH (x:Lead) WHERE x.leadId ENDS WITH '5' SET x.createdOn = date($now) - duration('P30D')",
    "MATCH (x:Lead) WHERE x.leadId ENDS WITH '6' SET x.createdOn = date($now) - duration('P31D')",
    # profiles without activities or without their to-one neighbour
    "MATCH (c:Customer)-[:PLACED]->(o) WHERE c.customerId ENDS WITH '1' DETACH DELETE o",
    "MATCH (c:Customer)-[:RECEIVED]->(e) WHERE c.customerId ENDS WITH '1' DETACH DELETE e",
    "MATCH (c:Customer)-[:HAS_ONLINE_ACCOUNT]->(a) WHERE c.customerId ENDS WITH '3'"
    " DETACH DELETE a",
]


def path(schema: GraphSchema, profile: str, steps: tuple[Step, ...]) -> str:
    """The plain MATCH pattern of a path, spelled out here rather than by the code under test."""
    text = f"(p:`{schema.require_entity(profile).label}`)"
    for i, s in enumerate(steps):
        rel, end = s.relationship.type, schema.require_entity(s.destination).label
        far = f"(x:`{end}`)" if i == len(steps) - 1 else f"(:`{end}`)"
        text += f"-[:`{rel}`]->{far}" if s.direction is Direction.OUT else f"<-[:`{rel}`]-{far}"
    return text


def raw(driver: neo4j.Driver, schema: GraphSchema, plan: FeaturePlan, steps: tuple[Step, ...]
        ) -> dict[Any, list[dict[str, Any]]]:  # fmt: skip
    """Per profile key, the properties of every record at the end of the path (the profile
    itself for no steps), temporal values as Python's."""
    key = plan.profile.key
    end = path(schema, plan.profile.name, steps) if steps else "(p)"
    match = f"MATCH (p:`{plan.profile.label}`) " + (f"MATCH {end} " if steps else "")
    records, _, _ = driver.execute_query(
        match + f"RETURN p.`{key}` AS k, properties({'x' if steps else 'p'}) AS x"
    )
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        out[r["k"]].append({n: v.to_native() if hasattr(v, "to_native") else v
                            for n, v in r["x"].items()})  # fmt: skip
    return out


def age_days(value: Any, now: dt.datetime) -> float:
    if isinstance(value, dt.datetime):
        return (now - value) // dt.timedelta(seconds=1) / 86400
    return float((now.date() - value).days)


def as_number(value: Any) -> float:
    return math.nan if value is None else float(value)


def to_one_oracle(part: ToOne, found: list[dict[str, Any]], now: dt.datetime) -> list[float]:
    head = found[0] if found else {}
    out = [float(bool(found))] if part.related.steps else []
    out += [as_number(head.get(a.name)) for a in part.values]
    dates = [head.get(a.name) for a in part.dates]
    return out + [math.nan if d is None else age_days(d, now) for d in dates]


def activity_oracle(
    a: Activity, plan: FeaturePlan, records: list[dict[str, Any]], now: dt.datetime
) -> list[float]:
    latest: Any = now if a.time.type is AttrType.DATETIME else now.date()

    def since(days: int) -> Any:
        start = now - dt.timedelta(days=days)
        return start if a.time.type is AttrType.DATETIME else start.date()

    seen = [r for r in records if r.get(a.time.name) is not None and r[a.time.name] <= latest]
    out: list[float] = [sum(r[a.time.name] >= since(w) for r in seen) for w in plan.windows]
    out.append(len(seen))
    out.append(min((age_days(r[a.time.name], now) for r in seen), default=NEVER_DAYS))
    recent = [r for r in seen if r[a.time.name] >= since(NUMERIC_WINDOW)]
    for n in a.numbers:
        out.append(sum(float(r[n.name]) for r in recent if r.get(n.name) is not None))
        known = [float(r[n.name]) for r in seen if r.get(n.name) is not None]
        out.append(sum(known) / len(known) if known else math.nan)
    out += [sum(r.get(f.name) is True for r in recent) for f in a.flags]
    for attr, values in a.categories:
        out += [sum(r.get(attr.name) == v and r[a.time.name] >= since(w) for r in seen)
                for v in values for w in plan.category_windows]  # fmt: skip
    return out


def oracle(driver: neo4j.Driver, schema: GraphSchema, plan: FeaturePlan, keys: list[Any],
           now: dt.datetime) -> np.ndarray[Any, np.dtype[np.float64]]:  # fmt: skip
    parts = [(t, raw(driver, schema, plan, t.related.steps)) for t in plan.to_one]
    acts = [(a, raw(driver, schema, plan, a.related.steps)) for a in plan.activities]
    profiles = parts[0][1]
    rows = []
    for k in keys:
        if k not in profiles:
            rows.append([math.nan] * len(plan.features))
            continue
        row = [v for t, found in parts for v in to_one_oracle(t, found.get(k, []), now)]
        row += [v for a, found in acts for v in activity_oracle(a, plan, found.get(k, []), now)]
        rows.append(row)
    return np.array(rows, dtype=np.float64)


def plan_of(driver: neo4j.Driver, profile: str, hops: int) -> FeaturePlan:
    schema = default_schema()
    categories = discover_categories(driver, schema, profile, max_hops=hops)
    return plan_features(schema, profile, categories=categories, max_hops=hops)


def assert_same(found: np.ndarray[Any, Any], expected: np.ndarray[Any, Any], plan: FeaturePlan
                ) -> None:  # fmt: skip
    for j, feature in enumerate(plan.features):
        np.testing.assert_allclose(found[:, j], expected[:, j], rtol=1e-9, atol=1e-9,
                                   equal_nan=True, err_msg=feature.name)  # fmt: skip


@pytest.mark.parametrize(("profile", "hops"), [("Customer", 2), ("Lead", 3)])
@pytest.mark.parametrize("now", [NOW, NOW_US], ids=["ms", "us"])
def test_columns_equal_the_oracle_and_the_per_profile_cypher(
    graph: neo4j.Driver, profile: str, hops: int, now: dt.datetime
) -> None:
    schema, plan = default_schema(), plan_of(graph, profile, hops)
    keys: list[Any] = profile_keys(graph, plan.profile)
    keys = [*keys, "no-such-key", keys[7], keys[0]]  # unknown and repeated keys
    expected = oracle(graph, schema, plan, keys, now)
    columns = extract_features(graph, schema, plan, keys, now=now, batch_size=37, workers=2)
    # the per-profile path fills one row per key: give it the keys once
    unique = keys[:-2]
    cypher = extract_features(graph, schema, plan, unique, now=now, method=Method.PER_PROFILE)
    assert_same(columns.matrix.values, expected, plan)
    assert_same(cypher.matrix.values, expected[: len(unique)], plan)
    assert columns.batches == -(-(len(keys) - 2) // 37)


def test_the_roughed_up_cases_are_in_the_data(graph: neo4j.Driver) -> None:
    """The oracle comparison above means something only if the edge cases exist."""
    plan = plan_of(graph, "Customer", 2)
    keys = profile_keys(graph, plan.profile)
    values = extract_features(graph, default_schema(), plan, keys, now=NOW).matrix
    assert (values.column("Order.count_all") == 0).any()
    assert (values.column("OnlineAccount.exists") == 0).any()
    assert np.isnan(values.column("Customer.creditBalance")).any()
    assert np.isnan(values.column("Order.total.avg")).any()
    assert (values.column("Customer.createdOn.days_ago") < 0).any()
    assert (values.column("EmailEvent.days_since_last") == 0).any()  # a record at now
    assert any(name.startswith("EmailEvent.type=") for name in values.names)
