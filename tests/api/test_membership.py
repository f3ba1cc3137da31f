"""`membership(segment, profile)`: the stored answer beside the definition evaluated now on the
profile's neighbourhood, checked against the compiled query Neo4j runs for the whole segment."""

from __future__ import annotations

from typing import Any

import neo4j

from grammar import compile_segment
from graph_schema import default_schema
from tests.api.conftest import Api, as_key, create_ok, key_for
from tests.api.test_members import node_id

DEFINITION = "segment Customer where city = 'Oslo' and any Order (total > 500) or in segment vip"

MEMBERSHIP = """
query($name: String!, $profile: String!) {
  membership(segmentName: $name, profile: $profile) {
    key found member matchesNow evaluatedAt
    clauses { index parent depth text holds detail }
  }
}
"""


def seed(driver: neo4j.Driver) -> None:
    driver.execute_query(
        "UNWIND range(1, 40) AS i "
        "CREATE (c:Customer {customerId: 'c' + i, city: CASE i % 3 WHEN 0 THEN 'Oslo' "
        "  WHEN 1 THEN 'Bergen' ELSE NULL END}) "
        "WITH c, i UNWIND range(1, i % 4) AS j "
        "CREATE (c)-[:PLACED]->(:Order {orderId: 'o' + i + '-' + j, total: toFloat(j * i * 7)})"
    )


def store_members(driver: neo4j.Driver, segment_gid: str, keys: list[str]) -> None:
    driver.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1 "
        "WITH s UNWIND $keys AS k MATCH (p:Customer {customerId: k}) "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: k, since: 1}]->(p)",
        id=node_id(segment_gid), keys=keys,
    )  # fmt: skip


def report(api: Api, profile: str, name: str = "oslo_big") -> dict[str, Any]:
    found: dict[str, Any] = api.data(MEMBERSHIP, name=name, profile=profile)["membership"]
    return found


def test_membership_matches_the_compiled_query_for_every_profile(
    api: Api, empty_graph: neo4j.Driver
) -> None:
    seed(empty_graph)
    vip = create_ok(api, name="vip", type="STATIC", definition={"text": ""})
    store_members(empty_graph, vip["id"], ["c1", "c2"])
    create_ok(api, name="oslo_big", definition={"text": DEFINITION})
    compiled = compile_segment(DEFINITION, default_schema())
    records, _, _ = empty_graph.execute_query(compiled.cypher, compiled.params)
    expected = {r["key"] for r in records}
    assert expected  # the data makes both branches hold for someone
    for i in range(1, 41):
        found = report(api, f"c{i}")
        assert found["found"] is True
        assert found["matchesNow"] is (f"c{i}" in expected), (i, found["clauses"])
        assert found["member"] is False  # never refreshed


def test_clauses_say_why_and_the_stored_answer_can_differ(
    api: Api, empty_graph: neo4j.Driver
) -> None:
    seed(empty_graph)
    create_ok(api, name="vip", type="STATIC", definition={"text": ""})
    segment = create_ok(api, name="oslo_big", definition={"text": DEFINITION})
    store_members(empty_graph, segment["id"], ["c3"])
    found = report(api, "c3")  # Oslo, 3 orders: 21, 42, 63
    assert (found["member"], found["matchesNow"]) == (True, False)
    by_text = {c["text"]: c for c in found["clauses"]}
    assert by_text["Customer.city = 'Oslo'"]["holds"] is True
    assert by_text["Customer.city = 'Oslo'"]["detail"] == "city = 'Oslo'"
    assert by_text["in segment vip"]["holds"] is False
    order = next(c for c in found["clauses"] if c["text"].startswith("any Order"))
    assert order["holds"] is False
    assert order["detail"].startswith("0 of 3 related Order")
    assert found["clauses"][0]["parent"] is None
    assert all(c["parent"] < c["index"] for c in found["clauses"][1:])
    nobody = report(api, "nobody")
    assert (nobody["found"], nobody["member"], nobody["matchesNow"]) == (False, False, False)
    static = report(api, "c1", name="vip")
    assert static["matchesNow"] is None
    assert static["clauses"] == []


def test_membership_needs_members_permission_and_pii_grant(
    api: Api, empty_graph: neo4j.Driver
) -> None:
    seed(empty_graph)
    create_ok(api, name="gmail", definition={"text": "segment Customer where email contains 'x'"})
    viewer = as_key(api, key_for(api, "VIEWER"))
    body = viewer.gql(MEMBERSHIP, name="gmail", profile="c1")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    sales = as_key(api, key_for(api, "SALES"))
    body = sales.gql(MEMBERSHIP, name="gmail", profile="c1")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert "PII" in body["errors"][0]["message"]
    trusted = as_key(api, key_for(api, "SALES", pii=True))
    assert report(trusted, "c1", name="gmail")["matchesNow"] is False
