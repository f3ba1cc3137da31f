"""`segment(id:) { members }` reads the segment and the page in one query
(server/api/segments/member_prefetch.py). The oracle is the two-read path: the same selection
behind a fragment on Segment, which the prefetch does not look into, must answer the same for
every role, page, column choice and bad argument."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

from server.api.segments import reading
from tests.api.conftest import Api, as_key, create_ok, key_for
from tests.api.test_members import node_id

SELECTION = """
  memberCount membershipVersion audience
  members(first: $first, after: $after, columns: $columns) {
    totalCount edges { cursor node { key sinceVersion %s } }
    pageInfo { hasNextPage endCursor }
  }
"""
ARGS = "$id: ID!, $first: Int, $after: String, $columns: [String!]"


def direct(properties: bool) -> str:
    body = SELECTION % ("properties" if properties else "")
    return f"query({ARGS}) {{ segment(id: $id) {{ {body} }} }}"


def through_fragment(properties: bool) -> str:
    body = SELECTION % ("properties" if properties else "")
    return f"query({ARGS}) {{ segment(id: $id) {{ ...s }} }} fragment s on Segment {{ {body} }}"


def seed(driver: neo4j.Driver) -> None:
    driver.execute_query(
        "UNWIND range(1, 9) AS i CREATE (:Customer {customerId: 'c' + toString(i), "
        "  name: 'Customer ' + i, email: 'c' + i + '@example.com', "
        "  birthDate: date('1990-01-01') + duration({days: i})})"
    )


@pytest.fixture
def segment(api: Api, empty_graph: neo4j.Driver) -> str:
    seed(empty_graph)
    seg = create_ok(api, name="some")
    empty_graph.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 2, s.versionSeq = 2, "
        "  s.memberCount = 8 "
        "WITH s MATCH (p:Customer) WHERE p.customerId <> 'c9' "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: p.customerId, since: 1}]->(p)",
        id=node_id(seg["id"]),
    )
    gid: str = seg["id"]
    return gid


def both(api: Api, properties: bool, **variables: Any) -> tuple[Any, Any]:
    one = api.gql(direct(properties), **variables)
    two = api.gql(through_fragment(properties), **variables)
    return one, two


def test_same_pages_as_two_reads_for_every_role(api: Api, segment: str) -> None:
    callers = {"admin": api} | {
        f"{role}{'+pii' if pii else ''}": as_key(api, key_for(api, role, pii=pii))
        for role, pii in (
            ("VIEWER", False),
            ("SALES", False),
            ("MARKETER", False),
            ("MARKETER", True),
        )
    }
    for name, caller in callers.items():
        for properties in (False, True):
            for columns in (None, ["name", "EMAIL", "birthDate"], []):
                after = None
                for _ in range(4):  # pages of 3 by cursor, past the end
                    variables = {"id": segment, "first": 3, "after": after, "columns": columns}
                    one, two = both(caller, properties, **variables)
                    assert one == two, (name, properties, columns, after)
                    if name == "VIEWER":
                        assert one["errors"][0]["extensions"]["code"] == "FORBIDDEN"
                        break
                    edges = one["data"]["segment"]["members"]["edges"]
                    after = edges[-1]["cursor"] if edges else after
    admin = api.data(direct(True), id=segment, first=3, after=None, columns=["email"])
    sales = as_key(api, key_for(api, "SALES")).data(
        direct(True), id=segment, first=3, after=None, columns=["email"]
    )
    emails = [e["node"]["properties"]["email"] for e in admin["segment"]["members"]["edges"]]
    assert emails == ["c1@example.com", "c2@example.com", "c3@example.com"]
    masked = [e["node"]["properties"]["email"] for e in sales["segment"]["members"]["edges"]]
    assert masked != emails
    assert all("example.com" not in m for m in masked)


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 3, "after": "not-a-cursor", "columns": None},
        {"first": -1, "after": None, "columns": None},
        {"first": 3, "after": None, "columns": ["nope"]},
    ],
)
def test_bad_arguments_keep_their_codes(api: Api, segment: str, variables: Any) -> None:
    for properties in (False, True):
        one, two = both(api, properties, id=segment, **variables)
        assert one == two
        assert one["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" or (
            one["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
        )
        assert one["errors"][0]["path"] == ["segment", "members"]


def test_unknown_segment_is_null(api: Api, segment: str) -> None:
    missing = "U2VnbWVudDpuby1zdWNoLWlk"  # Segment:no-such-id
    one, two = both(api, True, id=missing, first=3, after=None, columns=None)
    assert one == two == {"data": {"segment": None}}


def test_the_page_comes_with_the_segment(
    api: Api, segment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the second read made impossible, the direct query still answers (its page came
    with the segment) and the fragment, which takes the two-read path, does not."""
    expected = api.data(direct(True), id=segment, first=3, after=None, columns=None)

    async def no_second_read(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the page was read a second time")

    monkeypatch.setattr(reading, "list_members", no_second_read)
    cursor = expected["segment"]["members"]["edges"][-1]["cursor"]
    for after in (None, cursor):
        variables = {"id": segment, "first": 3, "after": after, "columns": None}
        found = api.data(direct(True), **variables)
        assert found["segment"]["members"]["totalCount"] == 8
        if after is None:
            assert found == expected
        assert "errors" in api.gql(through_fragment(True), **variables)
