"""Create, read, update, duplicate, rename, tags and state through the real app."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import CANONICAL_OSLO, Api, codes, create, create_ok

SEGMENT = """
query($id: ID, $name: String) {
  segment(id: $id, name: $name) {
    id name displayName description type audience state draft status tags timezone
    schedule { kind cron } createdBy membershipVersion lostInputs
    definition { version text valid references author diagnostics { code } }
    definitionVersions(first: 10) {
      totalCount edges { node { version text } } pageInfo { hasNextPage }
    }
  }
}
"""

UPDATE = """
mutation($input: UpdateSegmentInput!) {
  updateSegment(input: $input) {
    segment { id displayName description state draft timezone schedule { kind cron }
              definition { version text valid } }
    userErrors { code field }
  }
}
"""


def get(api: Api, **args: Any) -> dict[str, Any]:
    found: dict[str, Any] = api.data(SEGMENT, **args)["segment"]
    return found


def test_create_dynamic_segment(api: Api) -> None:
    seg = create_ok(api, name="oslo", displayName="Oslo", tags=["nordic", " Nordic ", "b2c"])
    assert seg["type"] == "DYNAMIC"
    assert (seg["state"], seg["draft"], seg["status"]) == ("ACTIVE", False, "NOT_STARTED")
    assert seg["tags"] == ["nordic", "b2c"]
    assert seg["schedule"] == {"kind": "SYSTEM", "cron": None}
    assert seg["definition"]["version"] == 1
    assert seg["definition"]["text"] == CANONICAL_OSLO
    assert seg["definition"]["valid"] is True
    assert seg["createdBy"] == "anonymous"
    assert get(api, name="oslo")["id"] == seg["id"]
    assert get(api, id=seg["id"])["name"] == "oslo"


def test_create_reports_every_input_problem_with_its_field(api: Api) -> None:
    payload = create(
        api, name="has space", audience="Planet", timezone="Mars/Base",
        schedule={"kind": "CRON", "cron": "every day"}, tags=["x" * 41],
    )  # fmt: skip
    assert payload["segment"] is None
    assert sorted(codes(payload)) == [
        ("INVALID_NAME", ["input", "name"]),
        ("INVALID_SCHEDULE", ["input", "schedule", "cron"]),
        ("INVALID_TAG", ["input", "tags", "0"]),
        ("INVALID_TIMEZONE", ["input", "timezone"]),
        ("UNKNOWN_AUDIENCE", ["input", "audience"]),
    ]


def test_static_schedules_and_expansion_type_are_refused(api: Api) -> None:
    static = create(api, name="s", type="STATIC", schedule={"kind": "SYSTEM"})
    assert codes(static) == [("INVALID_SCHEDULE", ["input", "schedule", "kind"])]
    expansion = create(api, name="e", type="EXPANSION")
    assert codes(expansion) == [("UNSUPPORTED_TYPE", ["input", "type"])]


def test_names_are_unique(api: Api) -> None:
    create_ok(api, name="oslo")
    assert codes(create(api, name="oslo")) == [("NAME_TAKEN", ["input", "name"])]


def test_segment_lookup_needs_exactly_one_key(api: Api) -> None:
    body = api.gql("{ segment { id } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert api.data('{ segment(id: "nope") { id } }')["segment"] is None
    assert api.data('{ segment(name: "nope") { id } }')["segment"] is None


def test_node_query_resolves_global_ids(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    query = "query($id: ID!) { node(id: $id) { id ... on Segment { name } } }"
    assert api.data(query, id=seg["id"])["node"] == {"id": seg["id"], "name": "oslo"}


def test_update_adds_a_definition_version(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    text = "segment Customer where city = 'Bergen'"
    result = api.data(
        UPDATE,
        input={
            "id": seg["id"], "displayName": "Bergen", "description": "west coast",
            "definition": {"text": text}, "schedule": {"kind": "CRON", "cron": "0 6 * * 1"},
            "timezone": "Europe/Oslo",
        },
    )["updateSegment"]  # fmt: skip
    assert result["userErrors"] == []
    updated = result["segment"]
    assert (updated["displayName"], updated["description"]) == ("Bergen", "west coast")
    assert updated["schedule"] == {"kind": "CRON", "cron": "0 6 * * 1"}
    assert updated["timezone"] == "Europe/Oslo"
    assert updated["definition"]["version"] == 2
    history = get(api, id=seg["id"])["definitionVersions"]
    assert history["totalCount"] == 2
    assert [e["node"]["version"] for e in history["edges"]] == [2, 1]
    assert history["edges"][1]["node"]["text"] == CANONICAL_OSLO


def test_update_of_unknown_segment(api: Api) -> None:
    result = api.data(UPDATE, input={"id": "bogus", "description": "x"})["updateSegment"]
    assert codes(result) == [("NOT_FOUND", ["input", "id"])]


DUPLICATE = """
mutation($id: ID!, $name: String!) {
  duplicateSegment(id: $id, name: $name) {
    segment { id name type state tags definition { version text } }
    userErrors { code field }
  }
}
"""


def test_duplicate_copies_properties_and_definition(api: Api) -> None:
    seg = create_ok(api, name="oslo", tags=["a"])
    result = api.data(DUPLICATE, id=seg["id"], name="oslo_copy")["duplicateSegment"]
    copy = result["segment"]
    assert copy["id"] != seg["id"]
    assert (copy["name"], copy["tags"], copy["state"]) == ("oslo_copy", ["a"], "ACTIVE")
    assert copy["definition"] == {"version": 1, "text": CANONICAL_OSLO}
    again = api.data(DUPLICATE, id=seg["id"], name="oslo_copy")["duplicateSegment"]
    assert codes(again) == [("NAME_TAKEN", ["name"])]


RENAME = """
mutation($id: ID!, $name: String!) {
  renameSegment(id: $id, name: $name) { segment { name } userErrors { code field } }
}
"""


def test_rename(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    done = api.data(RENAME, id=seg["id"], name="oslo_city")["renameSegment"]
    assert done == {"segment": {"name": "oslo_city"}, "userErrors": []}
    bad = api.data(RENAME, id=seg["id"], name="two words")["renameSegment"]
    assert codes(bad) == [("INVALID_NAME", ["name"])]


def test_rename_is_refused_while_other_segments_read_the_name(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    create_ok(api, name="reader", definition={"text": "segment Customer where in segment oslo"})
    refused = api.data(RENAME, id=seg["id"], name="other")["renameSegment"]
    assert codes(refused) == [("SEGMENT_IN_USE", ["id"])]


TAGS = """
mutation($id: ID!, $tags: [String!]!) {
  setSegmentTags(id: $id, tags: $tags) { segment { tags } userErrors { code field } }
}
"""


def test_set_tags(api: Api) -> None:
    seg = create_ok(api, name="oslo", tags=["old"])
    done = api.data(TAGS, id=seg["id"], tags=["vip", "VIP", "q4 "])["setSegmentTags"]
    assert done == {"segment": {"tags": ["vip", "q4"]}, "userErrors": []}
    bad = api.data(TAGS, id=seg["id"], tags=[f"t{i}" for i in range(21)])["setSegmentTags"]
    assert codes(bad) == [("LIMIT_EXCEEDED", ["tags"])]


STATE = """
mutation($id: ID!) {
  deactivateSegment(id: $id) { segment { state } userErrors { code } }
  activateSegment(id: $id) { segment { state } userErrors { code } }
}
"""


def test_deactivate_then_activate(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    done = api.data(STATE, id=seg["id"])
    assert done["deactivateSegment"] == {"segment": {"state": "INACTIVE"}, "userErrors": []}
    assert done["activateSegment"] == {"segment": {"state": "ACTIVE"}, "userErrors": []}


def test_actions_on_unknown_ids_are_user_errors(api: Api) -> None:
    done = api.data(STATE, id="U2VnbWVudDpub3BlCg==")
    assert done["activateSegment"]["userErrors"] == [{"code": "NOT_FOUND"}]
