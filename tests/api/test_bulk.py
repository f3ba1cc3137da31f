"""Bulk forms: state, tags and delete over many segments, problems at the id's index."""

from __future__ import annotations

from tests.api.conftest import Api, codes, create_ok

STATE = """
mutation($ids: [ID!]!, $state: SegmentState!) {
  setSegmentsState(ids: $ids, state: $state) { segments { name state } userErrors { code field } }
}
"""

TAGS = """
mutation($ids: [ID!]!, $add: [String!], $remove: [String!]) {
  editSegmentsTags(ids: $ids, add: $add, remove: $remove) {
    segments { name tags } userErrors { code }
  }
}
"""

DELETE = """
mutation($ids: [ID!]!, $force: Boolean!) {
  deleteSegments(ids: $ids, force: $force) {
    deletedIds dependents { name } userErrors { code field }
  }
}
"""


def test_bulk_state_reports_each_refusal_at_its_index(api: Api) -> None:
    a = create_ok(api, name="a")
    draft = create_ok(api, name="draft", definition={"text": "segment Customer where"})
    off = api.data(STATE, ids=[a["id"]], state="INACTIVE")["setSegmentsState"]
    assert off["segments"] == [{"name": "a", "state": "INACTIVE"}]
    on = api.data(STATE, ids=[a["id"], draft["id"], "bogus"], state="ACTIVE")["setSegmentsState"]
    assert on["segments"] == [{"name": "a", "state": "ACTIVE"}]
    assert codes(on) == [("DEFINITION_INVALID", ["ids", "1"]), ("NOT_FOUND", ["ids", "2"])]


def test_bulk_tags_keep_other_tags(api: Api) -> None:
    a = create_ok(api, name="a", tags=["keep", "old"])
    b = create_ok(api, name="b")
    done = api.data(TAGS, ids=[a["id"], b["id"]], add=["q4"], remove=["OLD"])["editSegmentsTags"]
    assert done["segments"] == [
        {"name": "a", "tags": ["keep", "q4"]},
        {"name": "b", "tags": ["q4"]},
    ]


def test_bulk_delete_guards_each_segment(api: Api) -> None:
    a = create_ok(api, name="a")
    b = create_ok(api, name="b")
    create_ok(api, name="reader", definition={"text": "segment Customer where in segment b"})
    done = api.data(DELETE, ids=[a["id"], b["id"]], force=False)["deleteSegments"]
    assert done["deletedIds"] == [a["id"]]
    assert done["dependents"] == [{"name": "reader"}]
    assert codes(done) == [("SEGMENT_IN_USE", ["ids", "1"])]
    forced = api.data(DELETE, ids=[b["id"]], force=True)["deleteSegments"]
    assert forced["deletedIds"] == [b["id"]]
