"""One negative case (at least) per error code, asserting the code and the span."""

from __future__ import annotations

import json

import pytest

import grammar
from grammar import limits
from grammar.errors import ErrorCode, SegmentError
from graph_schema import GraphSchema
from tests.grammar.schemas import CLUB, DEFAULT, NOW, chain_schema

C = "segment Customer where "  # 23 characters: offsets below count from the start of the text

# (case id, text, schema, code, (offset, end, line, column) of the span or None)
CASES = [
    (
        "unexpected token",
        C + "city == 1",
        DEFAULT,
        ErrorCode.SYNTAX_UNEXPECTED_TOKEN,
        (28, 30, 1, 29),
    ),
    (
        "misspelt keyword",
        "segmnt Customer where a = 1",
        DEFAULT,
        ErrorCode.SYNTAX_UNEXPECTED_TOKEN,
        (0, 6, 1, 1),
    ),
    (
        "unexpected character",
        C + "city = 1 $",
        DEFAULT,
        ErrorCode.SYNTAX_UNEXPECTED_CHARACTER,
        (32, 33, 1, 33),
    ),
    ("unexpected end", C + "city =", DEFAULT, ErrorCode.SYNTAX_UNEXPECTED_END, (29, 29, 1, 30)),
    ("bad date", C + "createdOn = 2024-02-30", DEFAULT, ErrorCode.INVALID_LITERAL, (35, 45, 1, 36)),
    ("bad escape", C + 'city = "a\\q"', DEFAULT, ErrorCode.INVALID_LITERAL, (30, 35, 1, 31)),
    ("unknown entity", C + "any Ordr", DEFAULT, ErrorCode.UNKNOWN_ENTITY, (27, 31, 1, 28)),
    ("unknown attribute", C + 'citty = "x"', DEFAULT, ErrorCode.UNKNOWN_ATTRIBUTE, (23, 28, 1, 24)),
    (
        "unknown relationship",
        C + "any Order via PLACD",
        DEFAULT,
        ErrorCode.UNKNOWN_RELATIONSHIP,
        (37, 42, 1, 38),
    ),
    (
        "bad time zone",
        'segment Customer timezone "Mars/Olympus" where city = "x"',
        DEFAULT,
        ErrorCode.UNKNOWN_TIMEZONE,
        (26, 40, 1, 27),
    ),
    (
        "not a profile",
        "segment Order where total > 1",
        DEFAULT,
        ErrorCode.NOT_A_PROFILE,
        (8, 13, 1, 9),
    ),
    ("no path", "segment Household where any Note", CLUB, ErrorCode.NO_PATH, (28, 32, 1, 29)),
    (
        "ambiguous path",
        "segment Member where any Ticket",
        CLUB,
        ErrorCode.AMBIGUOUS_PATH,
        (25, 31, 1, 26),
    ),
    (
        "ambiguous time",
        "segment Member where Ticket via OPENED then Visit",
        CLUB,
        ErrorCode.AMBIGUOUS_TIME_ATTRIBUTE,
        (21, 27, 1, 22),
    ),
    (
        "type mismatch",
        C + 'satisfaction = "high"',
        DEFAULT,
        ErrorCode.TYPE_MISMATCH,
        (38, 44, 1, 39),
    ),
    (
        "text op on number",
        C + 'satisfaction contains "1"',
        DEFAULT,
        ErrorCode.TYPE_MISMATCH,
        (23, 35, 1, 24),
    ),
    ("bad regex", C + 'name matches "(a"', DEFAULT, ErrorCode.INVALID_REGEX, (36, 40, 1, 37)),
    (
        "catastrophic regex",
        C + 'name matches "(a+)+$"',
        DEFAULT,
        ErrorCode.INVALID_REGEX,
        (36, 44, 1, 37),
    ),
    (
        "too many hops",
        "segment Root where any L5",
        chain_schema(5),
        ErrorCode.LIMIT_EXCEEDED,
        (23, 25, 1, 24),
    ),
    (
        "too many list values",
        C + "city in (" + ", ".join(['"x"'] * 1001) + ")",
        DEFAULT,
        ErrorCode.LIMIT_EXCEEDED,
        (31, 31 + 1 + 5 * 1001 - 2 + 1, 1, 32),
    ),
]


@pytest.mark.parametrize(
    ("text", "schema", "code", "span"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_code_and_span(
    text: str, schema: GraphSchema, code: ErrorCode, span: tuple[int, int, int, int] | None
) -> None:
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(text, schema, now=NOW)
    error = caught.value
    assert error.code is code, error
    found = error.span
    assert found is not None
    assert (found.offset, found.end, found.line, found.column) == span, (
        error,
        text[found.offset : found.end],
    )


@pytest.mark.parametrize(
    ("text", "span"),
    [
        (C + 'email = "a@b.c"', (23, 28, 1, 24)),
        ("segment Account where any Contact (phone is not empty)", (35, 40, 1, 36)),
    ],
)
def test_pii_attributes_are_not_permitted_without_the_grant(
    text: str, span: tuple[int, int, int, int]
) -> None:
    grammar.compile_segment(text, DEFAULT, now=NOW)  # fine with the grant
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(text, DEFAULT, now=NOW, allow_pii=False)
    error = caught.value
    assert error.code is ErrorCode.NOT_PERMITTED
    assert error.span is not None
    assert (error.span.offset, error.span.end, error.span.line, error.span.column) == span


def test_every_code_has_a_case() -> None:
    # JSON and NOT_PERMITTED: see their own tests.
    covered = {c[3] for c in CASES} | {ErrorCode.INVALID_JSON, ErrorCode.NOT_PERMITTED}
    assert covered == set(ErrorCode)


def test_invalid_json_names_the_location() -> None:
    data = json.loads(json.dumps(grammar.to_json(grammar.parse(C + 'city = "x"'))))
    data["body"]["condition"]["op"] = "=="
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(data, DEFAULT, now=NOW)
    assert caught.value.code is ErrorCode.INVALID_JSON
    assert "$.body.condition.op" in caught.value.message
    # What was sent and what would do, in the JSON form's own words (no Python type names).
    assert caught.value.message == (
        "$.body.condition.op: expected one of '=', '!=', '<', '<=', '>', '>=', got the string '=='"
    )
    data["body"]["condition"]["op"] = "="
    data["body"]["condition"]["value"] = {"node": "Comparison"}
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(data, DEFAULT, now=NOW)
    assert "expected a StringLiteral node or " in caught.value.message
    assert caught.value.message.endswith("got a Comparison node")
    for bad in (
        "{",
        '{"node": "Segment"}',
        '{"node": "Nope"}',
        '{"node": "Identifier", "name": 1}',
    ):
        with pytest.raises(SegmentError) as caught:
            grammar.parse(bad)
        assert caught.value.code is ErrorCode.INVALID_JSON


def test_suggestions_and_expected_tokens() -> None:
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(C + 'citty = "x"', DEFAULT, now=NOW)
    assert caught.value.suggestion == "city"
    with pytest.raises(SegmentError) as caught:
        grammar.parse("segment Customer wher city = 1")
    assert caught.value.suggestion == "where"
    assert "where" in caught.value.expected
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment("segment Member where any Ticket", CLUB, now=NOW)
    assert caught.value.candidates == ("Member -OPENED-> Ticket", "Member -ASSIGNED-> Ticket")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (C + "a == 1", "Use `=`"),
        (C + "a = 1 && b = 2", "Use `and`"),
        (C + "a is null", "is empty"),
        ("segment Customer where a = 1 exclude where b = 2", "except"),
        (C + "a in [1, 2]", "parentheses"),
        (C + "Order.total > 5", "go in a block"),
    ],
)
def test_friendly_messages(text: str, hint: str) -> None:
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(text, DEFAULT, now=NOW)
    assert hint in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "x" * (limits.MAX_TEXT_LENGTH + 1),
        C + "not " * 200 + "city = 1",
        C + "(any Order (" * 60 + "total > 1" + "))" * 60,
        C + " and ".join(["city = 1"] * (limits.MAX_CONDITIONS + 1)),
        "segment Customer " + " union ".join(["where city = 1"] * (limits.MAX_GROUPS + 1)),
        C + "createdOn in last 9999999 days",
        C + "satisfaction > 99999999999999999999",
        C + 'name matches "' + "a" * (limits.MAX_REGEX_LENGTH + 1) + '"',
    ],
    ids=["text", "not depth", "block depth", "conditions", "groups", "window", "int", "regex"],
)
def test_limits(text: str) -> None:
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(text, DEFAULT, now=NOW)
    assert caught.value.code in (ErrorCode.LIMIT_EXCEEDED, ErrorCode.INVALID_LITERAL)
    assert caught.value.span is not None


def test_error_serialises() -> None:
    with pytest.raises(SegmentError) as caught:
        grammar.parse(C + "city ==")
    data = caught.value.to_dict()
    assert data["code"] == "SYNTAX_UNEXPECTED_TOKEN"
    assert data["span"] is not None
    assert "line 1" in str(caught.value)


def test_independent_mistakes_are_reported_together_in_text_order() -> None:
    text = C + 'citty = "x" and satisfaction = "high"\n  or not (nmae = "y")\nexcept where cty = 1'
    with pytest.raises(SegmentError) as caught:
        grammar.compile_segment(text, DEFAULT, now=NOW)
    found = [(e.code, e.span.line if e.span else None, e.suggestion) for e in caught.value.all()]
    assert found == [
        (ErrorCode.UNKNOWN_ATTRIBUTE, 1, "city"),
        (ErrorCode.TYPE_MISMATCH, 1, None),
        (ErrorCode.UNKNOWN_ATTRIBUTE, 2, "name"),
        (ErrorCode.UNKNOWN_ATTRIBUTE, 3, "city"),
    ]
    assert caught.value.code is ErrorCode.UNKNOWN_ATTRIBUTE  # the first stays the one raised
