"""`compileSegment`: diagnostics with positions, or canonical text, explain and an estimate."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest
import redis

from server.api.segments import preview
from server.settings import Settings
from tests.api.conftest import Api, create_ok

COMPILE = """
query($text: String!, $audience: String, $asOf: DateTime) {
  compileSegment(definition: {text: $text}, audience: $audience, asOf: $asOf) {
    valid text audience referencedSegments
    diagnostics { code span { line column } end { line column } }
    explain { cypher parameters paths timezone now }
    estimate { count exact audienceTotal clauses { text count } elapsedMs }
  }
}
"""


def seed(driver: neo4j.Driver) -> None:
    driver.execute_query(
        "UNWIND range(1, 30) AS i CREATE (:Customer {customerId: 'c' + i, "
        "  city: CASE WHEN i <= 10 THEN 'Oslo' ELSE 'Bergen' END, satisfaction: i * 3})"
    )


def test_valid_definition_is_explained_and_estimated(api: Api, empty_graph: neo4j.Driver) -> None:
    seed(empty_graph)
    text = "segment Customer where city = 'Oslo' and satisfaction > 15"
    found = api.data(COMPILE, text=text, asOf="2025-01-01T00:00:00+00:00")["compileSegment"]
    assert found["valid"] is True
    assert found["diagnostics"] == []
    assert found["audience"] == "Customer"
    assert found["text"].startswith("segment Customer\n")
    assert "Oslo" not in found["explain"]["cypher"]  # values travel as parameters
    assert "Oslo" in found["explain"]["parameters"].values()
    assert found["explain"]["now"].startswith("2025-01-01")
    estimate = found["estimate"]
    assert (estimate["count"], estimate["exact"], estimate["audienceTotal"]) == (5, True, 30)
    assert [c["count"] for c in estimate["clauses"]] == [10, 25]


def test_invalid_definition_gives_positioned_diagnostics(api: Api) -> None:
    found = api.data(COMPILE, text="segment Customer\nwhere citty = 'Oslo'")["compileSegment"]
    assert found["valid"] is False
    assert found["explain"] is None
    assert found["estimate"] is None
    assert found["diagnostics"] == [
        {
            "code": "UNKNOWN_ATTRIBUTE",
            "span": {"line": 2, "column": 7},
            "end": {"line": 2, "column": 12},
        }
    ]
    # Every independent mistake at once, in text order.
    text = "segment Customer\nwhere citty = 'Oslo'\n  and satisfaction = 'high'\n  and nme = 'x'"
    several = api.data(COMPILE, text=text)["compileSegment"]["diagnostics"]
    assert [(d["code"], d["span"]["line"]) for d in several] == [
        ("UNKNOWN_ATTRIBUTE", 2), ("TYPE_MISMATCH", 3), ("UNKNOWN_ATTRIBUTE", 4),
    ]  # fmt: skip


def test_audience_and_references_are_checked(api: Api) -> None:
    other = api.data(COMPILE, text="segment Account where name = 'x'", audience="Customer")
    assert [d["code"] for d in other["compileSegment"]["diagnostics"]] == ["AUDIENCE_MISMATCH"]
    missing = api.data(COMPILE, text="segment Customer where in segment nope")["compileSegment"]
    assert [d["code"] for d in missing["diagnostics"]] == ["UNKNOWN_SEGMENT"]
    create_ok(api, name="oslo")
    ok = api.data(COMPILE, text="segment Customer where in segment oslo")["compileSegment"]
    assert (ok["valid"], ok["referencedSegments"]) == (True, ["oslo"])
    assert ok["estimate"]["count"] == 0  # no membership written yet


TYPE = """
mutation($id: ID!) {
  makeSegmentStatic(id: $id) { segment { type schedule { kind } } userErrors { code } }
}
"""

DYNAMIC = """
mutation($id: ID!) {
  makeSegmentDynamic(id: $id) { segment { type schedule { kind } } userErrors { code field } }
}
"""


def test_make_static_and_dynamic(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    static = api.data(TYPE, id=seg["id"])["makeSegmentStatic"]
    assert static == {
        "segment": {"type": "STATIC", "schedule": {"kind": "MANUAL"}},
        "userErrors": [],
    }
    dynamic = api.data(DYNAMIC, id=seg["id"])["makeSegmentDynamic"]
    assert dynamic["segment"] == {"type": "DYNAMIC", "schedule": {"kind": "SYSTEM"}}
    manual = create_ok(api, name="expo", type="STATIC", definition=None)
    refused = api.data(DYNAMIC, id=manual["id"])["makeSegmentDynamic"]
    assert refused["userErrors"] == [{"code": "DEFINITION_REQUIRED", "field": ["id"]}]


def test_large_audiences_get_a_sampled_estimate_within_its_margin(
    api: Api, empty_graph: neo4j.Driver, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """The sampled path, forced: the exact count 'times out' (budget patched to nothing for
    the count form only) and about 600 of 4,000 profiles decide the estimate."""
    empty_graph.execute_query(
        "UNWIND range(1, 4000) AS i CREATE (:Customer {customerId: 'c' + i, "
        "  city: CASE WHEN i % 10 < 3 THEN 'Oslo' ELSE 'Bergen' END})"
    )
    client = redis.Redis.from_url(settings.redis_url)
    client.delete("estimate:sample:Customer")  # a sample kept by an earlier test's data
    client.close()
    monkeypatch.setattr(preview, "SAMPLE_ABOVE", 1000)
    monkeypatch.setattr(preview, "SAMPLE", 600)
    real_run = preview._run

    async def count_times_out(deps: Any, text: str, params: dict[str, Any],
                              budget_s: float = preview.ESTIMATE_BUDGET_S) -> Any:  # fmt: skip
        if text.endswith("RETURN count(n0) AS count"):
            return None
        return await real_run(deps, text, params, budget_s)

    monkeypatch.setattr(preview, "_run", count_times_out)
    text = "segment Customer where city = 'Oslo'"
    query = COMPILE.replace("elapsedMs", "elapsedMs margin sampleSize")
    estimate = api.data(query, text=text)["compileSegment"]["estimate"]
    assert estimate["exact"] is False
    assert estimate["audienceTotal"] == 4000
    assert 400 <= estimate["sampleSize"] <= 800  # binomial(4000, 0.15): beyond 7 sigma
    # The truth is 1,200; twice the 95% half-width fails about once in 10,000 runs.
    assert abs(estimate["count"] - 1200) <= 2 * estimate["margin"]
    assert 110 <= estimate["margin"] <= 190  # 1.96 * sqrt(0.3 * 0.7 / 600) * 4000 = 147
    # The draw is kept: profiles deleted since are left out of the kept sample's denominator.
    empty_graph.execute_query(
        "MATCH (c:Customer) WHERE c.city = 'Bergen' WITH c LIMIT 200 DETACH DELETE c"
    )
    again = api.data(query, text=text)["compileSegment"]["estimate"]
    assert again["audienceTotal"] == 3800  # within a tenth: the kept draw is used again
    assert again["sampleSize"] < estimate["sampleSize"]  # minus the deleted it held
    assert abs(again["count"] - 1200) <= 2 * again["margin"]


def test_small_audiences_are_counted_exactly(api: Api, empty_graph: neo4j.Driver) -> None:
    seed(empty_graph)
    query = COMPILE.replace("elapsedMs", "elapsedMs margin sampleSize")
    estimate = api.data(query, text="segment Customer where city = 'Oslo'")["compileSegment"]
    assert (estimate["estimate"]["count"], estimate["estimate"]["margin"]) == (10, 0)
    assert estimate["estimate"]["sampleSize"] is None
