"""Members are read from `_MEMBER` relationships of the active version (engine_labels
contract); static segments are edited by key as new membership versions."""

from __future__ import annotations

import base64
from typing import Any

import neo4j

from tests.api.conftest import Api, codes, create_ok

MEMBERS = """
query($id: ID!, $after: String) {
  segment(id: $id) {
    memberCount membershipVersion
    members(first: 100, after: $after) {
      totalCount edges { cursor node { key sinceVersion properties } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

COLUMNS = """
query($id: ID!, $columns: [String!]) {
  segment(id: $id) { members(first: 1, columns: $columns) { edges { node { properties } } } }
}
"""

CHANGE = """
mutation($id: ID!, $keys: [String!]!) {
  add: addStaticMembers(id: $id, keys: $keys) {
    segment { memberCount membershipVersion } changedKeys unknownKeys userErrors { code field }
  }
}
"""

REMOVE = """
mutation($id: ID!, $keys: [String!]!) {
  removeStaticMembers(id: $id, keys: $keys) {
    segment { memberCount membershipVersion } changedKeys unknownKeys userErrors { code field }
  }
}
"""


def seed_customers(driver: neo4j.Driver, n: int) -> None:
    driver.execute_query(
        "UNWIND range(1, $n) AS i "
        "CREATE (:Customer {customerId: 'c' + right('000' + toString(i), 4), "
        "  name: 'Customer ' + i, createdOn: date('2024-01-01') + duration({days: i})})",
        n=n,
    )


def node_id(global_id: str) -> str:
    """The store id inside an opaque global id: tests write memberships with it directly."""
    return base64.b64decode(global_id).decode().split(":", 1)[1]


def members_page(api: Api, segment_id: str, after: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = api.data(MEMBERS, id=segment_id, after=after)["segment"]
    return found


def test_members_follow_the_active_version(api: Api, empty_graph: neo4j.Driver) -> None:
    seed_customers(empty_graph, 160)
    seg = create_ok(api, name="oslo")
    sid = node_id(seg["id"])
    # Version 1: c0001..c0150 members; c0151 left at version 1; c0152 joins only at version 2
    # (a half-written refresh), which readers must not see while version 1 is active.
    empty_graph.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 2 "
        "WITH s MATCH (p:Customer) WHERE p.customerId <= 'c0152' "
        "WITH s, p, CASE p.customerId WHEN 'c0151' THEN [0, 1] WHEN 'c0152' THEN [2, null] "
        "  ELSE [1, null] END AS life "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: p.customerId, since: life[0], "
        "  until: life[1]}]->(p)",
        id=sid,
    )
    first = members_page(api, seg["id"])
    assert (first["memberCount"], first["membershipVersion"]) == (150, 1)
    page = first["members"]
    assert page["totalCount"] == 150
    assert page["pageInfo"]["hasNextPage"] is True
    keys = [e["node"]["key"] for e in page["edges"]]
    assert keys == [f"c{i:04d}" for i in range(1, 101)]
    assert page["edges"][0]["node"]["properties"]["createdOn"] == "2024-01-02"
    picked = api.data(COLUMNS, id=seg["id"], columns=["NAME"])["segment"]["members"]["edges"]
    assert picked[0]["node"]["properties"] == {"name": "Customer 1"}
    bad = api.gql(COLUMNS, id=seg["id"], columns=["nope"])
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    rest = members_page(api, seg["id"], page["pageInfo"]["endCursor"])["members"]
    assert [e["node"]["key"] for e in rest["edges"]] == [f"c{i:04d}" for i in range(101, 151)]
    assert rest["pageInfo"]["hasNextPage"] is False

    empty_graph.execute_query("MATCH (s:_Segment {id: $id}) SET s.activeVersion = 2", id=sid)
    switched = members_page(api, seg["id"])
    assert switched["memberCount"] == 151  # c0152 joined; c0151 stays out


def test_static_members_by_key(api: Api, empty_graph: neo4j.Driver) -> None:
    seed_customers(empty_graph, 5)
    seg = create_ok(api, name="expo", type="STATIC", definition=None)
    added = api.data(CHANGE, id=seg["id"], keys=["c0001", "c0002", "c0002", "x9"])["add"]
    assert added["changedKeys"] == ["c0001", "c0002"]
    assert added["unknownKeys"] == ["x9"]
    assert added["segment"] == {"memberCount": 2, "membershipVersion": 1}
    again = api.data(CHANGE, id=seg["id"], keys=["c0001"])["add"]
    assert again["changedKeys"] == []
    removed = api.data(REMOVE, id=seg["id"], keys=["c0001", "c0005"])["removeStaticMembers"]
    assert (removed["changedKeys"], removed["unknownKeys"]) == (["c0001"], ["c0005"])
    assert removed["segment"] == {"memberCount": 1, "membershipVersion": 3}
    keys = [e["node"]["key"] for e in members_page(api, seg["id"])["members"]["edges"]]
    assert keys == ["c0002"]


def test_duplicate_of_static_segment_copies_members(api: Api, empty_graph: neo4j.Driver) -> None:
    seed_customers(empty_graph, 3)
    seg = create_ok(api, name="expo", type="STATIC", definition=None)
    api.data(CHANGE, id=seg["id"], keys=["c0001", "c0003"])
    copy = api.data(
        'mutation($id: ID!) { duplicateSegment(id: $id, name: "expo2") { segment { id } } }',
        id=seg["id"],
    )["duplicateSegment"]["segment"]
    keys = [e["node"]["key"] for e in members_page(api, copy["id"])["members"]["edges"]]
    assert keys == ["c0001", "c0003"]


def test_only_static_segments_take_manual_members(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    refused = api.data(CHANGE, id=seg["id"], keys=["c0001"])["add"]
    assert codes(refused) == [("NOT_STATIC", ["id"])]


def test_bad_member_cursor_is_refused(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    body = api.gql(MEMBERS, id=seg["id"], after="not-a-cursor")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    assert body["errors"][0]["path"] == ["segment", "members"]


KEYS_ONLY = """
query($id: ID!, $after: String) { segment(id: $id) { members(first: 7, after: $after) {
  totalCount edges { cursor node { key sinceVersion } } pageInfo { hasNextPage } } } }
"""

THROUGH_FRAGMENTS = """
query($id: ID!, $after: String) { segment(id: $id) { members(first: 7, after: $after) {
  totalCount edges { cursor node { ...row } } pageInfo { hasNextPage } } } }
fragment row on SegmentMember { key sinceVersion ... on SegmentMember { p: properties } }
"""


def test_pages_read_properties_only_when_asked(api: Api, empty_graph: neo4j.Driver) -> None:
    """A page of keys skips the profiles' properties; asked for through a fragment (aliased,
    in an inline fragment) they are still all there, and keys and cursors are the same."""
    seed_customers(empty_graph, 12)
    seg = create_ok(api, name="some")
    empty_graph.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1 "
        "WITH s MATCH (p:Customer) "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: p.customerId, since: 1}]->(p)",
        id=node_id(seg["id"]),
    )
    cursor: str | None = None
    for _ in range(2):  # the first page, then the next by cursor
        keys = api.data(KEYS_ONLY, id=seg["id"], after=cursor)["segment"]["members"]
        full = api.data(THROUGH_FRAGMENTS, id=seg["id"], after=cursor)["segment"]["members"]
        assert [e["cursor"] for e in keys["edges"]] == [e["cursor"] for e in full["edges"]]
        key_of = [e["node"]["key"] for e in full["edges"]]
        assert [e["node"]["key"] for e in keys["edges"]] == key_of
        assert (keys["totalCount"], keys["pageInfo"]) == (full["totalCount"], full["pageInfo"])
        for edge in full["edges"]:
            n = int(edge["node"]["key"][1:])
            assert edge["node"]["p"]["name"] == f"Customer {n}"
            assert edge["node"]["p"]["createdOn"] == f"2024-01-{n + 1:02d}"
        cursor = keys["edges"][-1]["cursor"]
    assert [e["node"]["key"] for e in keys["edges"]] == [f"c{i:04d}" for i in range(8, 13)]
