"""Delete is refused while something depends on the segment, unless forced."""

from __future__ import annotations

import neo4j

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
