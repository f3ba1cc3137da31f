"""Suggested segments over the API on planted data: the tree finds the planted driver, every
suggestion compiles, its size is what a refresh of the created segment holds, and the RFM
cells partition the audience."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

from tests.api.conftest import Api, Json, create_ok
from tests.api.test_splits import members, refresh

CUSTOMERS = 600
SUGGEST = """
query($audience: String!, $measure: String!, $influencers: [String!]) {
  suggestSegments(audience: $audience, measure: $measure, influencers: $influencers, first: 3) {
    measure populationAverage sampleSize userErrors { code field }
    suggestions { name displayName definition sampleMembers average pValue
                  estimate { count exact } }
  }
}
"""
RFM = """
query($activity: String!, $monetary: String, $days: Int!) {
  suggestRfmSegments(audience: "Customer", activity: $activity, monetary: $monetary,
                     periodDays: $days) {
    sampleSize userErrors { code field }
    suggestions { name definition sampleMembers values { name value } estimate { count exact } }
  }
}
"""


@pytest.fixture
def planted(empty_graph: neo4j.Driver) -> neo4j.Driver:
    """Satisfaction i % 100; customers at 70 or more ordered 5 x 400 lately, others 1 x 50;
    recency and frequency spread by i so the RFM grid has every level."""
    empty_graph.execute_query(
        "UNWIND range(0, $n - 1) AS i "
        "CREATE (c:Customer {customerId: 'c' + right('000' + i, 4), satisfaction: i % 100, "
        "  creditBalance: toFloat((i * 37) % 1000)}) "
        "WITH c, i UNWIND range(1, CASE WHEN i % 100 >= 70 THEN 5 ELSE 1 + i % 3 END) AS k "
        "CREATE (c)-[:PLACED]->(:Order {orderId: c.customerId + '-' + k, "
        "  total: CASE WHEN i % 100 >= 70 THEN 400.0 ELSE 50.0 END, "
        "  placedAt: datetime() - duration({days: 1 + (i * 7 + k * 13) % 300})})",
        n=CUSTOMERS,
    )
    # Customers without any order: the RFM grid's "inactive".
    empty_graph.execute_query(
        "UNWIND range(0, 49) AS i CREATE (:Customer {customerId: 'z' + i, satisfaction: 50})"
    )
    return empty_graph


def suggest(api: Api, measure: str, influencers: list[str] | None = None) -> Json:
    found: Json = api.data(SUGGEST, audience="Customer", measure=measure,
                           influencers=influencers)["suggestSegments"]  # fmt: skip
    return found


def test_the_tree_finds_the_planted_driver_and_sizes_match_a_refresh(
    api: Api, planted: neo4j.Driver, settings: Any
) -> None:
    found = suggest(
        api, "Order.total.sum_365d", ["Customer.satisfaction", "Customer.creditBalance"]
    )
    assert found["userErrors"] == []
    assert found["sampleSize"] == CUSTOMERS + 50
    top = found["suggestions"][0]
    assert "satisfaction > 69.5" in top["definition"]
    assert top["average"] == pytest.approx(2000.0)  # 5 x 400, every one of them
    assert top["pValue"] < 0.01
    for s in found["suggestions"]:
        segment = create_ok(api, name=s["name"], definition={"text": s["definition"]})
        assert segment["name"] == s["name"]
        refresh(settings, s["name"])
        assert s["estimate"]["exact"] is True
        assert len(members(planted, s["name"])) == s["estimate"]["count"] == s["sampleMembers"]


def test_rfm_cells_partition_the_audience(api: Api, planted: neo4j.Driver) -> None:
    found = api.data(RFM, activity="Order", monetary="total", days=365)["suggestRfmSegments"]
    assert found["userErrors"] == []
    cells = found["suggestions"]
    names = {c["name"] for c in cells}
    assert {"rfm_champions", "rfm_lost", "rfm_at_risk", "rfm_inactive"} <= names
    counts = [c["estimate"]["count"] for c in cells]
    assert sum(counts) == CUSTOMERS + 50  # each profile in exactly one cell
    assert next(c for c in cells if c["name"] == "rfm_inactive")["estimate"]["count"] == 50
    # The sample is the whole audience here: the cells' sample members add up too.
    assert sum(c["sampleMembers"] for c in cells) == found["sampleSize"] == CUSTOMERS + 50
    champions = next(c for c in cells if c["name"] == "rfm_champions")
    values = {v["name"]: v["value"] for v in champions["values"]}
    assert values["frequency"] >= 3
    assert set(values) == {"recencyDays", "frequency", "monetary"}


def test_unknown_features_and_audiences_are_user_errors(api: Api, planted: neo4j.Driver) -> None:
    found = suggest(api, "Order.nope", ["Customer.satisfaction", "bogus"])
    errors = [(e["code"], e["field"]) for e in found["userErrors"]]
    assert errors == [("UNKNOWN_FEATURE", ["measure"]), ("UNKNOWN_FEATURE", ["influencers", "1"])]
    assert found["suggestions"] == []
    rfm = api.data(RFM, activity="Nothing", monetary=None, days=365)["suggestRfmSegments"]
    assert [(e["code"], e["field"]) for e in rfm["userErrors"]] == [
        ("UNKNOWN_FEATURE", ["activity"])
    ]
    short = api.data(RFM, activity="Order", monetary=None, days=3)["suggestRfmSegments"]
    assert [e["code"] for e in short["userErrors"]] == ["INVALID_VALUE"]
    listed = api.gql('{ suggestionFeatures(audience: "Nope") { name } }')
    assert [(e["extensions"]["code"], e["path"]) for e in listed["errors"]] == [
        ("BAD_USER_INPUT", ["suggestionFeatures"])
    ]
