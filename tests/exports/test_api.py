"""Exports through GraphQL: validation with codes and field paths, update, list, delete, and
a segment's view of them (manage exports, usage, the delete guard)."""

from __future__ import annotations

import base64

import neo4j

from tests.api.conftest import Api, as_key, codes, create_ok, key_for
from tests.exports.conftest import CREATE, create_export, create_export_ok, export_by_name

FOLDER = {"kind": "FOLDER_CSV", "path": "crm"}

UPDATE = """
mutation($input: UpdateExportInput!) {
  updateExport(input: $input) {
    export { name state columns destination { kind url headerNames } trigger { kind cron }
             segments { name } }
    userErrors { code field message }
  }
}
"""

LIST = """
query($after: String) {
  exports(first: 2, after: $after) {
    totalCount edges { node { name } } pageInfo { hasNextPage endCursor }
  }
}
"""

SEGMENT = """
query($name: String!) {
  segment(name: $name) { exports { name } dependents { kind id name } }
}
"""

DELETE_SEGMENT = """
mutation($id: ID!, $force: Boolean!) {
  deleteSegment(id: $id, force: $force) {
    deletedId dependents { kind name } userErrors { code field }
  }
}
"""

DELETE = "mutation($id: ID!) { deleteExport(id: $id) { deletedId userErrors { code field } } }"


def test_inputs_are_checked_with_codes_and_paths(api: Api) -> None:
    oslo = create_ok(api, name="oslo")
    contacts = create_ok(api, name="contacts", audience="Contact",
                         definition={"text": "segment Contact where city = 'Oslo'"})  # fmt: skip
    bad = create_export(
        api, name="has space", segmentIds=[oslo["id"], "bogus", contacts["id"], oslo["id"]],
        columns=["name", "city", "nope"], destination=FOLDER,
        trigger={"kind": "SCHEDULE", "cron": "every day"},
    )  # fmt: skip
    assert bad["export"] is None
    assert sorted(codes(bad)) == sorted([
        ("INVALID_NAME", ["input", "name"]),
        ("NOT_FOUND", ["input", "segmentIds", "1"]),
        ("AUDIENCE_MISMATCH", ["input", "segmentIds", "2"]),
        ("INVALID_VALUE", ["input", "segmentIds", "3"]),
        ("UNKNOWN_COLUMN", ["input", "columns", "2"]),
        ("INVALID_SCHEDULE", ["input", "trigger", "cron"]),
    ])  # fmt: skip
    http = create_export(
        api, name="hook", segmentIds=[oslo["id"]], trigger={"kind": "SCHEDULE",
        "cron": "0 6 * * *", "timezone": "Mars/Base"},
        destination={"kind": "HTTP_JSONL", "url": "ftp://x", "path": "p",
                     "headers": [{"name": "Content-Type", "value": "x"},
                                 {"name": "X-Key", "value": "a\nb"}]},
    )  # fmt: skip
    assert sorted(codes(http)) == sorted([
        ("INVALID_TIMEZONE", ["input", "trigger", "timezone"]),
        ("INVALID_DESTINATION", ["input", "destination", "path"]),
        ("INVALID_DESTINATION", ["input", "destination", "url"]),
        ("INVALID_DESTINATION", ["input", "destination", "headers", "0"]),
        ("INVALID_DESTINATION", ["input", "destination", "headers", "1"]),
    ])  # fmt: skip
    none = create_export(api, name="empty", segmentIds=[], destination=FOLDER)
    assert codes(none) == [("LIMIT_EXCEEDED", ["input", "segmentIds"])]
    create_export_ok(api, name="weekly", segmentIds=[oslo["id"]], destination=FOLDER)
    taken = create_export(api, name="weekly", segmentIds=[oslo["id"]], destination=FOLDER)
    assert codes(taken) == [("NAME_TAKEN", ["input", "name"])]


def test_update_keeps_what_is_left_out(api: Api) -> None:
    oslo = create_ok(api, name="oslo")
    other = create_ok(api, name="other")
    export = create_export_ok(api, name="weekly", segmentIds=[oslo["id"]], columns=["email"],
                              destination=FOLDER)  # fmt: skip
    assert export["trigger"] == {"kind": "MANUAL", "cron": None, "timezone": "UTC"}
    hook = {"kind": "HTTP_JSONL", "url": "https://crm.example/in",
            "headers": [{"name": "Authorization", "value": "Bearer s3cret"}]}  # fmt: skip
    changed = api.data(UPDATE, input={
        "id": export["id"], "segmentIds": [other["id"], oslo["id"]], "destination": hook,
        "trigger": {"kind": "AFTER_REFRESH"}, "active": False,
    })["updateExport"]  # fmt: skip
    assert changed["userErrors"] == []
    assert changed["export"] == {
        "name": "weekly", "state": "INACTIVE", "columns": ["email"],
        "destination": {"kind": "HTTP_JSONL", "url": "https://crm.example/in",
                        "headerNames": ["Authorization"]},  # values are never shown
        "trigger": {"kind": "AFTER_REFRESH", "cron": None},
        "segments": [{"name": "other"}, {"name": "oslo"}],
    }  # fmt: skip
    reset = api.data(UPDATE, input={"id": export["id"], "columns": [], "name": "daily"})
    assert reset["updateExport"]["export"]["columns"] is None  # every attribute again
    assert reset["updateExport"]["export"]["name"] == "daily"
    unknown = api.data(UPDATE, input={"id": export["id"], "columns": ["citty"]})["updateExport"]
    assert codes(unknown) == [("UNKNOWN_COLUMN", ["input", "columns", "0"])]
    assert unknown["userErrors"][0]["message"] == (
        "'citty' is not an attribute of Customer. Did you mean `city`?"
    )
    gone = api.data(UPDATE, input={"id": oslo["id"], "name": "x"})["updateExport"]
    assert codes(gone) == [("NOT_FOUND", ["input", "id"])]


def test_list_by_name_and_delete(api: Api) -> None:
    oslo = create_ok(api, name="oslo")
    for name in ("c", "a", "b"):
        create_export_ok(api, name=name, segmentIds=[oslo["id"]], destination=FOLDER)
    first = api.data(LIST)["exports"]
    assert [e["node"]["name"] for e in first["edges"]] == ["a", "b"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (3, True)
    rest = api.data(LIST, after=first["pageInfo"]["endCursor"])["exports"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["c"]

    a = export_by_name(api, "a")
    assert api.data(DELETE, id=a["id"])["deleteExport"] == {"deletedId": a["id"], "userErrors": []}
    assert export_by_name(api, "a") is None
    again = api.data(DELETE, id=a["id"])["deleteExport"]
    assert codes(again) == [("NOT_FOUND", ["id"])]
    assert api.data("query($id: ID!) { node(id: $id) { id } }", id=a["id"])["node"] is None
    b = export_by_name(api, "b")
    node = api.data("query($id: ID!) { node(id: $id) { ... on Export { name } } }", id=b["id"])
    assert node["node"] == {"name": "b"}


def test_a_segment_shows_its_exports_and_is_guarded_by_them(
    api: Api, empty_graph: neo4j.Driver
) -> None:
    oslo = create_ok(api, name="oslo")
    other = create_ok(api, name="other")
    export = create_export_ok(api, name="weekly", segmentIds=[oslo["id"], other["id"]],
                              destination=FOLDER)  # fmt: skip
    seen = api.data(SEGMENT, name="oslo")["segment"]
    assert seen["exports"] == [{"name": "weekly"}]
    assert seen["dependents"] == [{"kind": "EXPORT", "id": export["id"], "name": "weekly"}]
    assert base64.b64decode(export["id"]).decode().startswith("Export:")

    refused = api.data(DELETE_SEGMENT, id=oslo["id"], force=False)["deleteSegment"]
    assert refused["deletedId"] is None
    assert refused["dependents"] == [{"kind": "EXPORT", "name": "weekly"}]
    assert codes(refused) == [("SEGMENT_IN_USE", ["id"])]

    forced = api.data(DELETE_SEGMENT, id=oslo["id"], force=True)["deleteSegment"]
    assert forced["deletedId"] == oslo["id"]
    after = export_by_name(api, "weekly")
    assert (after["segments"], after["lostSegments"]) == ([{"name": "other"}], ["oslo"])
    assert api.data(SEGMENT, name="other")["segment"]["exports"] == [{"name": "weekly"}]


def test_exports_need_manage_exports_and_pii_columns_need_the_grant(api: Api) -> None:
    oslo = create_ok(api, name="oslo")
    fields = {"name": "weekly", "segmentIds": [oslo["id"]], "destination": FOLDER}
    viewer = as_key(api, key_for(api, "VIEWER"))
    refused = viewer.gql(CREATE, input={**fields, "columns": ["name"]})
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    marketer = as_key(api, key_for(api, "MARKETER"))
    everything = create_export(marketer, **fields)  # every column: email and phone among them
    assert codes(everything) == [("NOT_PERMITTED", ["input", "columns"])]
    with_email = create_export(marketer, **fields, columns=["name", "email"])
    assert codes(with_email) == [("NOT_PERMITTED", ["input", "columns", "1"])]
    assert create_export(marketer, **fields, columns=["name", "city"])["userErrors"] == []
    assert create_export(api, **{**fields, "name": "full"})["userErrors"] == []  # admin: PII ok
