"""`graphSchema` serves the loaded data model: entities, attributes, relationships, paths."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import neo4j
import pytest
import redis

from server.settings import Settings
from server.store import value_stats
from tests.api.conftest import Api, as_key, key_for

QUERY = """
{
  graphSchema {
    name audiences
    entities { name key profile attributes { name type pii }
               pathsToAudiences(maxHops: 2) {
                 start end description steps { relationship direction } } }
    relationships { type source target cardinality }
  }
}
"""


def test_graph_schema(api: Api) -> None:
    schema = api.data(QUERY)["graphSchema"]
    assert {"Customer", "Account", "Contact"} <= set(schema["audiences"])
    entities = {e["name"]: e for e in schema["entities"]}
    email = next(a for a in entities["Customer"]["attributes"] if a["name"] == "email")
    assert email == {"name": "email", "type": "STRING", "pii": True}
    paths = entities["Order"]["pathsToAudiences"]
    to_customer = [p for p in paths if p["end"] == "Customer"]
    assert to_customer
    assert len(to_customer[0]["steps"]) == 1
    assert all(p["start"] == "Order" for p in paths)
    assert schema["relationships"]


VALUES = """
{
  graphSchema {
    entities { name attributes { name values {
      total sampleSize sampled nonNull distinct top { value count }
      percentiles { p value } minimum maximum } } }
  }
}
"""

TIERS = ["bronze", "silver", "gold", "platinum"]


def seed(driver: neo4j.Driver, n: int) -> list[dict[str, Any]]:
    rows = [
        {"customerId": f"c{i}", "loyaltyTier": TIERS[(i * i) % 4] if i % 7 else None,
         "satisfaction": (i * 37) % 101, "createdOn": dt.date(2024, 1, 1) + dt.timedelta(days=i),
         "email": f"u{i}@example.com", "name": f"name {i}"}
        for i in range(1, n + 1)
    ]  # fmt: skip
    driver.execute_query("UNWIND $rows AS r CREATE (c:Customer) SET c = r", rows=rows)
    return rows


def attribute_values(api: Api, entity: str) -> dict[str, Any]:
    entities = {e["name"]: e for e in api.data(VALUES)["graphSchema"]["entities"]}
    return {a["name"]: a["values"] for a in entities[entity]["attributes"]}


@pytest.fixture
def no_cached_stats(settings: Settings) -> Iterator[None]:
    client = redis.Redis.from_url(settings.redis_url)
    for key in client.scan_iter("schema:stats:*"):
        client.delete(key)
    yield
    client.close()


def test_attribute_values_match_the_data(
    api: Api, empty_graph: neo4j.Driver, no_cached_stats: None
) -> None:
    rows = seed(empty_graph, 300)
    values = attribute_values(api, "Customer")
    tiers = Counter(r["loyaltyTier"] for r in rows if r["loyaltyTier"])
    tier = values["loyaltyTier"]
    assert (tier["total"], tier["sampleSize"], tier["sampled"]) == (300, 300, False)
    assert tier["nonNull"] == sum(tiers.values())
    assert {(t["value"], t["count"]) for t in tier["top"]} == set(tiers.items())
    assert [t["count"] for t in tier["top"]] == sorted(tiers.values(), reverse=True)
    scores = sorted(r["satisfaction"] for r in rows)
    expected = {p: scores[max(1, math.ceil(p * len(scores))) - 1] for p in (0.0, 0.5, 0.9, 1.0)}
    found = {p["p"]: p["value"] for p in values["satisfaction"]["percentiles"]}
    assert {p: found[p] for p in expected} == expected
    assert values["satisfaction"]["top"] == []  # 101 distinct values: not low cardinality
    assert values["name"]["top"] == []
    assert values["createdOn"]["minimum"] == "2024-01-02"
    assert values["createdOn"]["maximum"] == str(dt.date(2024, 1, 1) + dt.timedelta(days=300))
    assert values["email"]["distinct"] == 300  # admin (dev caller): PII readable
    sales = as_key(api, key_for(api, "SALES"))
    assert attribute_values(sales, "Customer")["email"] is None


def test_large_entities_are_sampled(
    api: Api, empty_graph: neo4j.Driver, no_cached_stats: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(value_stats, "SAMPLE", 200)
    seed(empty_graph, 2000)
    tier = attribute_values(api, "Customer")["loyaltyTier"]
    assert tier["sampled"] is True
    assert tier["total"] == 2000
    assert 100 <= tier["sampleSize"] <= 320  # binomial(2000, 0.1): far beyond 6 sigma
    assert {t["value"] for t in tier["top"]} <= set(TIERS)
