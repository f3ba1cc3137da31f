"""Canonical formatting, the JSON form and its published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import grammar
from grammar.json_schema import render

CASES = [
    (
        "SEGMENT customer WHERE City = 'NY' AND Any order (TOTAL > 5.50)",
        'segment customer\nwhere City = "NY"\n  and any order (TOTAL > 5.5)\n',
    ),
    (
        "segment C where a = 1 or b = 2 and c = 3",
        "segment C\nwhere a = 1 or (b = 2 and c = 3)\n",
    ),
    (
        "segment C where d < 2024-01-01 and e > 3 days ago and f in the last 1 day",
        "segment C\nwhere d before 2024-01-01\n  and e after 3 days ago\n  and f in last 1 day\n",
    ),
    (
        "segment C where x = 'tab\\there \"q\"' and `count` = 1 and `odd name` = 2",
        'segment C\nwhere x = "tab\\there \\"q\\""\n  and `count` = 1\n  and `odd name` = 2\n',
    ),
    (
        "segment C where a = 1 union (where b = 2 except where c = 3) intersect where d = 4",
        "segment C\nwhere a = 1\nunion\n(where b = 2\nexcept\nwhere c = 3)\n"
        "intersect\nwhere d = 4\n",
    ),
    (
        "segment C where Order.placedAt via PLACED then NO Order within 1 DAYS",
        "segment C\nwhere Order.placedAt via PLACED then no Order within 1 day\n",
    ),
    (
        "segment C where not (a = 1) and not not b is true",
        "segment C\nwhere not a = 1\n  and not not b is true\n",
    ),
]


@pytest.mark.parametrize(("text", "canonical"), CASES)
def test_canonical_text(text: str, canonical: str) -> None:
    assert grammar.format_segment(text) == canonical
    assert grammar.format_segment(canonical) == canonical
    assert grammar.parse(canonical) == grammar.parse(text)


@pytest.mark.parametrize(("text", "canonical"), CASES)
def test_json_round_trip(text: str, canonical: str) -> None:
    tree = grammar.parse(text)
    data = grammar.to_json(tree)
    as_text = json.dumps(data)
    assert grammar.parse(as_text) == tree
    assert grammar.format_segment(data) == canonical
    assert grammar.to_json(grammar.parse(grammar.format_segment(data))) == data


def test_json_shape_is_readable() -> None:
    data = grammar.to_json(grammar.parse('segment Customer where city = "Paris"'))
    assert data == {
        "node": "Segment",
        "audience": {"node": "Identifier", "name": "Customer"},
        "timezone": None,
        "body": {
            "node": "Group",
            "condition": {
                "node": "Comparison",
                "attribute": {
                    "node": "Dotted",
                    "name": {"node": "Identifier", "name": "city"},
                    "qualifier": None,
                },
                "op": "=",
                "value": {"node": "StringLiteral", "value": "Paris"},
            },
        },
    }


def test_published_json_schema_is_current() -> None:
    published = Path(grammar.__file__).parent / "segment.schema.json"
    assert published.read_text() == render(), "regenerate: python -m grammar.json_schema"
    schema = json.loads(published.read_text())
    assert schema["$ref"] == "#/$defs/Segment"
    assert "Sequence" in schema["$defs"]


def test_json_values_are_checked_like_text() -> None:
    data = grammar.to_json(grammar.parse("segment C where d in last 3 days"))
    data["body"]["condition"]["window"]["amount"] = -3
    with pytest.raises(grammar.SegmentError) as caught:
        grammar.parse(data)
    assert caught.value.code is grammar.ErrorCode.INVALID_LITERAL
