"""Delete is refused while something depends on the segment, unless forced."""

from __future__ import annotations

import asyncio

import neo4j

from server.settings import Settings
from server.store.db import Db
from server.store.lifecycle import purge_all_deleted
from tests.api.conftest import Api, codes, create_ok
from tests.api.test_members import node_id

DELETE = """
mutation($id: ID!, $force: Boolean!) {
  deleteSegment(id: $id, force: $force) {
    deletedId dependents { kind name } userErrors { code field }
  }
}
"""

REGISTER = """
mutation($input: RegisterUsageInput!) {
  registerSegmentUsage(input: $input) { usage { id kind consumer } userErrors { code field } }
}
"""

UNREGISTER = """
mutation($id: ID!) { unregisterSegmentUsage(id: $id) { usage { consumer } userErrors { code } } }
"""

LOOKUP = """
query($name: String!) {
  segment(name: $name) { state draft lostInputs dependents { kind name } usages { consumer } }
}
"""

DEFINITION = """
query($name: String!) {
  segment(name: $name) {
    definition { valid diagnostics { code span { line column } end { line column } } }
  }
}
"""


def test_unused_segment_is_deleted(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    done = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert done == {"deletedId": seg["id"], "dependents": [], "userErrors": []}
    assert api.data(LOOKUP, name="oslo")["segment"] is None
    again = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert codes(again) == [("NOT_FOUND", ["id"])]


def test_segment_read_by_another_is_guarded(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    create_ok(api, name="reader", definition={"text": "segment Customer where in segment oslo"})
    refused = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert refused["deletedId"] is None
    assert refused["dependents"] == [{"kind": "SEGMENT", "name": "reader"}]
    assert codes(refused) == [("SEGMENT_IN_USE", ["id"])]
    assert api.data(LOOKUP, name="oslo")["segment"]["dependents"] == refused["dependents"]

    forced = api.data(DELETE, id=seg["id"], force=True)["deleteSegment"]
    assert forced["deletedId"] == seg["id"]
    assert forced["dependents"] == [{"kind": "SEGMENT", "name": "reader"}]
    reader = api.data(LOOKUP, name="reader")["segment"]
    assert reader["lostInputs"] == ["oslo"]
    assert (reader["state"], reader["draft"]) == ("INACTIVE", True)
    # Its definition says why, where its (canonical) text reads the deleted segment.
    definition = api.data(DEFINITION, name="reader")["segment"]["definition"]
    assert definition["valid"] is False
    assert definition["diagnostics"] == [
        {"code": "UNKNOWN_SEGMENT", "span": {"line": 2, "column": 7},
         "end": {"line": 2, "column": 22}}
    ]  # fmt: skip


def test_registered_usage_guards_delete_until_unregistered(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    usage_input = {"segmentId": seg["id"], "kind": "CAMPAIGN", "consumer": "Spring sale"}
    usage = api.data(REGISTER, input=usage_input)["registerSegmentUsage"]["usage"]
    assert usage["kind"] == "CAMPAIGN"
    assert api.data(LOOKUP, name="oslo")["segment"]["usages"] == [{"consumer": "Spring sale"}]
    refused = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert refused["dependents"] == [{"kind": "CAMPAIGN", "name": "Spring sale"}]
    removed = api.data(UNREGISTER, id=usage["id"])["unregisterSegmentUsage"]
    assert removed == {"usage": {"consumer": "Spring sale"}, "userErrors": []}
    done = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert done["deletedId"] == seg["id"]


def test_usage_inputs_are_checked(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    blank = {"segmentId": seg["id"], "kind": "JOURNEY", "consumer": " "}
    assert codes(api.data(REGISTER, input=blank)["registerSegmentUsage"]) == [
        ("INVALID_VALUE", ["input", "consumer"])
    ]
    missing = {"segmentId": "bogus", "kind": "JOURNEY", "consumer": "x"}
    assert codes(api.data(REGISTER, input=missing)["registerSegmentUsage"]) == [
        ("NOT_FOUND", ["input", "segmentId"])
    ]


def test_delete_takes_the_refresh_runs_along(api: Api, empty_graph: neo4j.Driver) -> None:
    seg = create_ok(api, name="oslo")
    other = create_ok(api, name="bergen")
    for global_id in (seg["id"], other["id"]):
        empty_graph.execute_query(
            "MATCH (s:_Segment {id: $id}) "
            "CREATE (s)-[:_HAS_RUN]->(:_SegmentRun {id: randomUUID(), segmentId: $id, "
            "  status: 'SUCCESSFUL'}) "
            "CREATE (:_SegmentRun {id: randomUUID(), segmentId: $id, status: 'FAILED'})",
            id=node_id(global_id),
        )
    done = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert done["userErrors"] == []
    left = empty_graph.execute_query(
        "MATCH (r:_SegmentRun) RETURN r.segmentId AS segment, count(*) AS n"
    ).records
    assert [(r["segment"], r["n"]) for r in left] == [(node_id(other["id"]), 2)]


MEMBERS = (
    "MATCH (s:_Segment {id: $id}) UNWIND range(1, $n) AS i "
    "CREATE (s)-[:_MEMBER {segmentId: $id, key: 'c' + i, since: 1}]->"
    "(:Customer {customerId: 'c' + i})"
)


def member_edges(driver: neo4j.Driver, segment_id: str) -> int:
    found = driver.execute_query(
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id RETURN count(m) AS n", id=segment_id
    ).records
    return int(found[0]["n"])


def test_memberships_go_in_batches_after_the_segment(api: Api, empty_graph: neo4j.Driver) -> None:
    """The segment leaves every read in one transaction (a tombstone, its name free); its
    member edges follow in batches, then the tombstone."""
    seg = create_ok(api, name="oslo")
    empty_graph.execute_query(MEMBERS, id=node_id(seg["id"]), n=25_000)
    assert member_edges(empty_graph, node_id(seg["id"])) == 25_000
    done = api.data(DELETE, id=seg["id"], force=False)["deleteSegment"]
    assert done["userErrors"] == []
    assert member_edges(empty_graph, node_id(seg["id"])) == 0
    left = empty_graph.execute_query("MATCH (s:_DeletedSegment) RETURN count(s) AS n").records
    assert left[0]["n"] == 0
    assert create_ok(api, name="oslo")["name"] == "oslo"  # the name is free again


def test_an_interrupted_purge_is_finished_by_the_sweep(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    """A worker dying between the delete and the purge leaves a tombstone with its members:
    the workers' minute tick (`purge_all_deleted`) finishes it; live segments are untouched."""
    kept = create_ok(api, name="kept")
    gone = create_ok(api, name="gone")
    for seg in (kept, gone):
        empty_graph.execute_query(MEMBERS.replace("'c' + i", "$p + i"), id=node_id(seg["id"]),
                                  n=300, p=seg["name"])  # fmt: skip
    empty_graph.execute_query(  # the state the delete's transaction leaves before its purge
        "MATCH (s:_Segment {id: $id}) REMOVE s:_Segment SET s:_DeletedSegment",
        id=node_id(gone["id"]),
    )

    async def sweep() -> int:
        auth = (settings.neo4j_user, settings.neo4j_password)
        async with neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            return await purge_all_deleted(Db(driver, settings.neo4j_database))

    assert asyncio.run(sweep()) == 1
    assert member_edges(empty_graph, node_id(gone["id"])) == 0
    assert member_edges(empty_graph, node_id(kept["id"])) == 300
    assert asyncio.run(sweep()) == 0
