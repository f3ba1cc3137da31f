"""The reference evaluator on hand-built rows: the answers worked out by hand in test_neo4j.py
(the same data, in memory), three-valued logic, and the why-in / why-not explanation."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

import grammar
from grammar.evaluate import Dataset, Key, evaluate_segment
from grammar.explain_membership import ClauseResult, explain_membership
from graph_schema import GraphSchema
from tests.grammar.golden_io import compile_case
from tests.grammar.random_data import Clock, Pools, random_dataset
from tests.grammar.random_segments import SegmentGenerator
from tests.grammar.schemas import CLUB, DEFAULT, NOW
from tests.grammar.test_neo4j import CUSTOMERS, EXPECTED, ago
from tests.grammar.test_neo4j import ORDERS as _ORDERS

ORDERS: list[dict[str, Any]] = _ORDERS


def _rows(key: str, *rows: dict[str, Any]) -> dict[Key, dict[str, Any]]:
    return {r[key]: r for r in rows}


def _hand_built() -> Dataset:
    """test_neo4j's DATA and REST, as rows."""
    orders = {
        o["id"]: {"orderId": o["id"], "total": o["total"], "placedAt": o["at"]} for o in ORDERS
    }
    lines = {o["id"] + "-1": {"orderLineId": o["id"] + "-1"} for o in ORDERS if o["product"]}
    products = {
        o["product"]["id"]: {"productId": o["product"]["id"], "category": o["product"]["category"]}
        for o in ORDERS
        if o["product"]
    }
    jan1, d3 = dt.date(2026, 5, 1), ago(3)
    return Dataset(
        entities={
            "Customer": _rows("customerId", *CUSTOMERS),
            "Order": orders,
            "OrderLine": lines,
            "Product": products,
            "Case": {
                "k1": {"escalated": True, "createdOn": d3},
                "k2": {"escalated": True, "createdOn": d3},
            },
            "OnlineAccount": {"oa1": {}, "oa2": {}},
            "WebSession": {"w0": {"sessionId": 1}, "w1": {"sessionId": 1}, "w2": {"sessionId": 2}},
            "PageView": {
                "pv1": {"url": "/Pricing", "at": ago(12)},
                "pv2": {"url": "/pricing/enterprise", "at": ago(20)},
            },
            "EmailEvent": {
                "e1": {"type": "open", "at": dt.datetime(2025, 11, 15, tzinfo=dt.UTC)},
                "e2": {"type": "click", "at": dt.datetime(2026, 2, 1, tzinfo=dt.UTC)},
            },
            "Account": {
                "a1": {"budget": 2e6, "contractRenewalDate": jan1},
                "a2": {"budget": 5e5, "contractRenewalDate": dt.date(2026, 7, 1)},
            },
            "Contact": {"t1": {}, "t2": {}, "t3": {}},
        },
        relationships={
            "PLACED": [(o["customer"], o["id"], {}) for o in ORDERS],
            "HAS_LINE": [(o["id"], o["id"] + "-1", {}) for o in ORDERS if o["product"]],
            "OF_PRODUCT": [
                (o["id"] + "-1", o["product"]["id"], {}) for o in ORDERS if o["product"]
            ],
            "RAISED": [("c1", "k1", {}), ("c2", "k2", {})],
            "HAS_ONLINE_ACCOUNT": [("c1", "oa1", {}), ("c2", "oa2", {})],
            "STARTED": [("oa1", "w1", {}), ("oa2", "w0", {}), ("oa2", "w2", {})],
            "VIEWED": [("w1", "pv1", {}), ("w2", "pv2", {})],
            "RECEIVED": [("c1", "e1", {}), ("c2", "e2", {})],
            "WORKS_AT": [
                ("t1", "a1", {"isPrimary": True}),
                ("t2", "a1", {"isPrimary": False}),
                ("t3", "a2", {"isPrimary": True}),
            ],
        },
    )


DATA = _hand_built()
SEGMENTS: dict[str, frozenset[Key]] = {"newsletter": frozenset({"c1"})}


def run(condition: str, data: Dataset = DATA, audience: str = "Customer") -> set[Key]:
    compiled = grammar.compile_segment(f"segment {audience} where {condition}", DEFAULT, now=NOW)
    return set(evaluate_segment(compiled.bound, data, segments=SEGMENTS))


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_golden_segments_select_the_hand_worked_answers(name: str, expected: set[str]) -> None:
    assert evaluate_segment(compile_case(name).bound, DATA, segments=SEGMENTS) == expected


def test_nulls_split_the_audience_in_three() -> None:
    assert run("satisfaction < 60") == {"c1", "c4"}
    assert run("not satisfaction < 60") == {"c2"}
    assert run("satisfaction is empty") == {"c3"}
    assert run('not (satisfaction < 60 and city = "New York")') == {"c2", "c3"}
    assert run('satisfaction < 60 or city = "Boston"') == {"c1", "c2", "c4"}
    assert run("all Order (total > 100)") == {"c1", "c2", "c3"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ('city = "New York"', {"c1"}),
        ('city contains "YORK"', {"c1", "c3"}),
        ('city contains "York" case sensitive', {"c1"}),
        ('city starts with "NEW"', {"c1", "c3"}),
        ('city ends with ""', {"c1", "c2", "c3"}),
        ('city matches "[Nn]ew.*"', {"c1", "c3"}),
        ('city in ("Boston", "Paris")', {"c2"}),
        ('city not in ("Boston")', {"c1", "c3"}),
        ("creditBalance between 100 and 15000", {"c2", "c3"}),
        ("count Order (total > 100) >= 1", {"c1", "c2", "c3"}),
        ("count Order = 0", set()),
        ("sum Order.total > 600", {"c2"}),
        ("sum Order.total (total > 1000) = 0", {"c1", "c2", "c3", "c4"}),
        ("avg Order.total < 100", {"c4"}),
        ("min Order.total (total > 1000) < 1", set()),  # min of nothing is null
        ("max Order.placedAt > 2026-03-01", {"c1", "c3"}),
        ("no Order (placedAt in last 180 days)", {"c4"}),
        ("in segment newsletter", {"c1"}),
        ("not in segment newsletter", {"c2", "c3", "c4"}),
        ("in segment nobody", set()),
        ('PageView (url contains "/pricing") then any Order within 7 days', {"c1"}),
        ("PageView then Order", {"c1"}),
        ("PageView then no Order within 1 day", {"c1", "c2"}),
        ("birthDate anniversary in next 7 days", {"c1"}),
        ("any Product via OrderLine", {"c1", "c3", "c4"}),
    ],
)
def test_hand_built_answers(condition: str, expected: set[str]) -> None:
    assert run(condition) == expected


def test_relationship_attributes_are_read_on_the_walk() -> None:
    assert run("any Account (WORKS_AT.isPrimary is true)", audience="Contact") == {"t1", "t3"}
    assert run("all Account (WORKS_AT.isPrimary is true)", audience="Contact") == {"t1", "t3"}
    assert run("any Account (WORKS_AT.since is empty)", audience="Contact") == {"t1", "t2", "t3"}


def test_datetimes_compare_as_instants() -> None:
    moment = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
    paris = moment.astimezone(dt.timezone(dt.timedelta(hours=1)))
    data = Dataset(
        entities={"Customer": {"c": {}}, "Order": {"o": {"placedAt": paris}}},
        relationships={"PLACED": [("c", "o", {})]},
    )
    assert run("any Order (placedAt = 2026-03-01T10:00:00Z)", data) == {"c"}
    assert run("any Order (placedAt > 2026-03-01T10:00:00Z)", data) == set()


def test_distinct_records_reached_twice_count_once() -> None:
    data = Dataset(
        entities={"Customer": {"c": {}}, "Order": {"o": {"total": 5.0}}},
        relationships={"PLACED": [("c", "o", {}), ("c", "o", {})]},
    )
    assert run("count Order = 1 and sum Order.total = 5", data) == {"c"}


def _find(result: ClauseResult, text: str) -> ClauseResult:
    if result.text == text:
        return result
    found = [f for c in result.children if (f := _find(c, text)).text == text]
    return found[0] if found else result


def test_explain_gives_each_clause_truth() -> None:
    compiled = grammar.compile_segment(
        'segment Customer where satisfaction < 60 and (city = "Boston" or newsletter is true)'
        " and count Order >= 1 except where doNotContact is true",
        DEFAULT,
        now=NOW,
    )
    c3 = explain_membership(compiled.bound, DATA, "c3")
    assert (c3.found, c3.member, c3.body.text) == (True, False, "except")
    where = c3.body.children[0]
    conjunction = where.children[0]
    assert [c.truth for c in conjunction.children] == [None, None, True]
    assert conjunction.children[0].detail == "satisfaction = null"
    assert _find(c3.body, "count Order >= 1").detail == "count = 1"
    c1 = explain_membership(compiled.bound, DATA, "c1")
    assert c1.member
    assert c1.body.truth is True
    missing = explain_membership(compiled.bound, DATA, "nobody")
    assert (missing.found, missing.member) == (False, False)
    negative = grammar.compile_segment("segment Customer where not in segment x", DEFAULT, now=NOW)
    assert not explain_membership(negative.bound, DATA, "nobody").member


def test_strings_order_by_utf16_code_units_as_neo4j_does() -> None:
    data = Dataset(entities={"Customer": {"c": {"city": "\ufffd"}, "d": {"city": "\U0001f600"}}})
    assert run('city > "\U0001f600"', data) == {"c"}  # U+FFFD sorts after a surrogate pair
    assert run('max Order.total < 0 or city = "\ufffd"', data) == {"c"}


def test_sequence_within_quarters_adds_months() -> None:
    jan31 = dt.datetime(2025, 1, 31, 12, tzinfo=dt.UTC)
    data = Dataset(
        entities={
            "Customer": {"c": {}},
            "OnlineAccount": {"a": {}},
            "WebSession": {"w": {}},
            "PageView": {"p": {"at": jan31}},
            "Order": {"o": {"placedAt": dt.datetime(2025, 4, 30, 12, tzinfo=dt.UTC)}},
        },
        relationships={
            "HAS_ONLINE_ACCOUNT": [("c", "a", {})],
            "STARTED": [("a", "w", {})],
            "VIEWED": [("w", "p", {})],
            "PLACED": [("c", "o", {})],
        },
    )
    assert run("PageView then any Order within 1 quarter", data) == {"c"}  # Apr 30, clamped
    assert run("PageView then any Order within 88 days", data) == set()


@pytest.mark.parametrize("schema", [CLUB, DEFAULT], ids=["club", "default"])
def test_explanation_agrees_with_the_evaluator_on_random_segments(schema: GraphSchema) -> None:
    clock = Clock(NOW, "Europe/Berlin")
    pools = Pools.of(clock)
    data = random_dataset(schema, pools, seed=11, size=10)
    generator = SegmentGenerator(schema, pools, random.Random(11))
    segments = {"alpha": frozenset(list(data.records(schema.profiles[0]))[:5])}
    for _ in range(40):
        compiled = grammar.compile_segment(generator.segment(), schema, now=NOW, timezone=clock.tz)
        members = evaluate_segment(compiled.bound, data, segments=segments)
        for key in data.records(compiled.bound.audience):
            explained = explain_membership(compiled.bound, data, key, segments=segments)
            assert explained.member == (key in members), (compiled.canonical, key)


def test_explain_lists_the_related_records_that_match() -> None:
    compiled = grammar.compile_segment(
        "segment Customer where any Order (total > 500) or no Case", DEFAULT, now=NOW
    )
    c2 = explain_membership(compiled.bound, DATA, "c2").body.children[0]
    assert [c.detail for c in c2.children] == [
        "1 of 1 related Order record(s) match: o2",
        "1 of 1 related Case record(s) match: k2",
    ]
    assert [c.truth for c in c2.children] == [True, False]


def test_sum_of_only_empty_values_is_zero_as_in_neo4j() -> None:
    data = Dataset(
        entities={"Customer": {"c": {}}, "Order": {"o": {"total": None}}},
        relationships={"PLACED": [("c", "o", {})]},
    )
    assert run("sum Order.total = 0", data) == {"c"}  # Cypher: sum() skips nulls, 0 if none left
    assert run("avg Order.total = 0 or not avg Order.total = 0", data) == set()  # unknown
