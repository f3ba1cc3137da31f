"""A definition that does not compile is saved as a draft (dynamic) or inactive (static) with
its diagnostics; activating it is refused until it compiles."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, codes, create, create_ok

ACTIVATE = """
mutation($id: ID!) {
  activateSegment(id: $id) { segment { state } userErrors { code field } }
}
"""

UPDATE = """
mutation($id: ID!, $text: String!) {
  updateSegment(input: {id: $id, definition: {text: $text}}) {
    segment { state draft definition { version valid diagnostics { code } } }
    userErrors { code field }
  }
}
"""

DIAGNOSTICS = """
query($id: ID!) {
  segment(id: $id) {
    definition { valid diagnostics { code span { line column } end { line column } } }
  }
}
"""

PLACED = """
query($id: ID!) {
  segment(id: $id) {
    definition {
      text valid diagnostics { code message span { line column } end { line column } }
    }
  }
}
"""


def diagnostics(api: Api, segment_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.data(DIAGNOSTICS, id=segment_id)["segment"]["definition"]
    return found


def test_invalid_dynamic_definition_is_saved_as_a_draft(api: Api) -> None:
    seg = create_ok(api, name="typo", definition={"text": "segment Customer\nwhere cty = 'Oslo'"})
    assert (seg["state"], seg["draft"]) == ("INACTIVE", True)
    found = diagnostics(api, seg["id"])
    assert found["valid"] is False
    assert found["diagnostics"] == [
        {
            "code": "UNKNOWN_ATTRIBUTE",
            "span": {"line": 2, "column": 7},
            "end": {"line": 2, "column": 10},
        }
    ]
    refused = api.data(ACTIVATE, id=seg["id"])["activateSegment"]
    assert codes(refused) == [("DEFINITION_INVALID", ["id"])]


def test_fixing_a_draft_activates_it(api: Api) -> None:
    seg = create_ok(api, name="typo", definition={"text": "segment Customer where"})
    assert seg["definition"]["diagnostics"] == [{"code": "SYNTAX_UNEXPECTED_END"}]
    fixed = api.data(UPDATE, id=seg["id"], text="segment Customer where city = 'Oslo'")
    segment = fixed["updateSegment"]["segment"]
    assert (segment["state"], segment["draft"]) == ("ACTIVE", False)
    assert segment["definition"] == {"version": 2, "valid": True, "diagnostics": []}


def test_breaking_a_valid_definition_makes_it_a_draft(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    broken = api.data(UPDATE, id=seg["id"], text="segment Customer where city = ")
    segment = broken["updateSegment"]["segment"]
    assert (segment["state"], segment["draft"]) == ("INACTIVE", True)


def test_invalid_static_definition_is_inactive_not_draft(api: Api) -> None:
    seg = create_ok(api, name="expo", type="STATIC", definition={"text": "segment Nobody where"})
    assert (seg["state"], seg["draft"]) == ("INACTIVE", False)
    refused = api.data(ACTIVATE, id=seg["id"])["activateSegment"]
    assert codes(refused) == [("DEFINITION_INVALID", ["id"])]


def test_static_segment_without_definition_is_valid(api: Api) -> None:
    seg = create_ok(api, name="expo", type="STATIC", definition=None)
    assert (seg["state"], seg["draft"], seg["schedule"]["kind"]) == ("ACTIVE", False, "MANUAL")
    blank = create_ok(api, name="expo2", type="STATIC", definition={"text": ""})
    assert (blank["state"], blank["definition"]["valid"]) == ("ACTIVE", True)


def test_empty_dynamic_definition_is_a_draft(api: Api) -> None:
    seg = create_ok(api, name="empty", definition={"text": "  "})
    assert seg["draft"] is True
    assert seg["definition"]["diagnostics"] == [{"code": "EMPTY_DEFINITION"}]


def test_audience_must_match_the_definition(api: Api) -> None:
    seg = create_ok(api, name="acc", definition={"text": "segment Account where name = 'x'"})
    assert seg["definition"]["diagnostics"] == [{"code": "AUDIENCE_MISMATCH"}]


def test_json_form_is_accepted_and_returned(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    tree = api.data("query($id: ID!) { segment(id: $id) { definition { json } } }", id=seg["id"])[
        "segment"
    ]["definition"]["json"]
    copy = create_ok(api, name="from_json", definition={"json": tree})
    assert copy["definition"]["text"] == seg["definition"]["text"]
    assert copy["draft"] is False


def test_referencing_a_draft_or_missing_segment_is_refused(api: Api) -> None:
    create_ok(api, name="broken", definition={"text": "segment Customer where"})
    reader = create_ok(
        api, name="reader", definition={"text": "segment Customer where in segment broken"}
    )
    assert reader["draft"] is True
    assert reader["definition"]["diagnostics"] == [{"code": "SEGMENT_NOT_VALID"}]
    ghost = create_ok(
        api, name="ghost", definition={"text": "segment Customer where in segment nope"}
    )
    assert ghost["definition"]["diagnostics"] == [{"code": "UNKNOWN_SEGMENT"}]


def test_problems_with_read_segments_point_at_the_reference(api: Api) -> None:
    create_ok(api, name="oslo_buyers")
    create_ok(api, name="broken", definition={"text": "segment Customer where"})
    text = (
        "segment Customer\nwhere city = 'Oslo'\n  and in segment oslo_buyer\n"
        "  or in segment broken"
    )
    seg = create_ok(api, name="reader", definition={"text": text})
    found = api.data(PLACED, id=seg["id"])["segment"]["definition"]
    assert found["valid"] is False
    assert found["text"] == text  # kept as written: the positions count in it
    assert found["diagnostics"] == [
        {"code": "UNKNOWN_SEGMENT", "message": "no segment named oslo_buyer. Did you mean "
         "`oslo_buyers`?", "span": {"line": 3, "column": 7}, "end": {"line": 3, "column": 28}},
        {"code": "SEGMENT_NOT_VALID", "message": "segment broken is a draft or invalid",
         "span": {"line": 4, "column": 6}, "end": {"line": 4, "column": 23}},
    ]  # fmt: skip


def test_an_audience_mismatch_points_at_the_audience(api: Api) -> None:
    seg = create_ok(api, name="orders", audience="Customer",
                    definition={"text": "segment Contact\nwhere city = 'Oslo'"})  # fmt: skip
    found = diagnostics(api, seg["id"])
    assert found["diagnostics"] == [
        {"code": "AUDIENCE_MISMATCH", "span": {"line": 1, "column": 9},
         "end": {"line": 1, "column": 16}}
    ]  # fmt: skip


def test_dependency_cycles_are_refused(api: Api) -> None:
    a = create_ok(api, name="a")
    create_ok(api, name="b", definition={"text": "segment Customer where in segment a"})
    cycle = api.data(UPDATE, id=a["id"], text="segment Customer where in segment b")
    definition = cycle["updateSegment"]["segment"]["definition"]
    assert definition["diagnostics"] == [{"code": "DEPENDENCY_CYCLE"}]


def test_compound_segments_read_other_segments(api: Api) -> None:
    create_ok(api, name="a")
    plain = create_ok(api, name="c1", type="COMPOUND")
    assert plain["definition"]["diagnostics"] == [{"code": "COMPOUND_NEEDS_SEGMENTS"}]
    compound = create_ok(
        api, name="c2", type="COMPOUND", definition={"text": "segment Customer where in segment a"}
    )
    assert (compound["state"], compound["draft"]) == ("ACTIVE", False)


COMPILE_FORMS = """
query($text: String, $json: JSON) {
  compileSegment(definition: {text: $text, json: $json}) {
    valid diagnostics { code message }
  }
}
"""


def test_a_definition_is_text_or_json_not_both(api: Api) -> None:
    tree = api.data(COMPILE_FORMS, text="segment Customer where city = 'Oslo'")
    assert tree["compileSegment"] == {"valid": True, "diagnostics": []}
    oslo = create_ok(api, name="oslo")
    json_form = api.data("query($id: ID!) { segment(id: $id) { definition { json } } }",
                         id=oslo["id"])["segment"]["definition"]["json"]  # fmt: skip
    both = {"text": "segment Customer where city = 'Bergen'", "json": json_form}
    refused = create(api, name="both", definition=both)
    assert refused["segment"] is None
    assert codes(refused) == [("INVALID_VALUE", ["input", "definition"])]
    assert api.data(LOOKUP_NAME, name="both")["segment"] is None  # nothing was saved
    compiled = api.data(COMPILE_FORMS, **both)["compileSegment"]
    assert compiled["valid"] is False
    assert [d["code"] for d in compiled["diagnostics"]] == ["TEXT_AND_JSON"]


def test_a_json_form_that_is_not_an_object_says_what_it_got(api: Api) -> None:
    compiled = api.data(COMPILE_FORMS, json="not a tree")["compileSegment"]
    assert compiled["diagnostics"] == [{
        "code": "INVALID_JSON",
        "message": '$: expected a Segment node (an object with "node"), got the string '
                   "'not a tree'",
    }]  # fmt: skip


LOOKUP_NAME = "query($name: String!) { segment(name: $name) { id } }"


def test_a_reference_problem_keeps_the_text_its_position_counts_in(api: Api) -> None:
    # One line as written; the canonical form would break it after the audience.
    text = "segment Customer where in segment nope"
    seg = create_ok(api, name="one_line", definition={"text": text})
    found = api.data(PLACED, id=seg["id"])["segment"]["definition"]
    assert found["text"] == text
    assert [(d["span"], d["end"]) for d in found["diagnostics"]] == [
        ({"line": 1, "column": 24}, {"line": 1, "column": 39})
    ]
    compiled = api.data(COMPILE_FORMS, text=text)["compileSegment"]
    assert compiled["valid"] is False
