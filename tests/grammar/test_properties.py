"""Property tests: no input escapes our error type; generated segments always compile, the same
way twice; hostile values travel only as parameters."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import grammar
from grammar import ast as a
from grammar.errors import SegmentError
from graph_schema import GraphSchema
from tests.grammar.conftest import scaled
from tests.grammar.schemas import CLUB, DEFAULT, NOW
from tests.grammar.strategies import HOSTILE, MARK_OPEN, hostile_text, segments

VOCABULARY = [
    "segment", "Customer", "Member", "where", "union", "intersect", "except", "and", "or", "not",
    "(", ")", ",", ".", "=", "!=", "<", ">=", "in", "is", "empty", "true", "between", "contains",
    "starts", "with", "matches", "case", "sensitive", "any", "no", "all", "count", "sum", "Order",
    "total", "city", "placedAt", "via", "PLACED", "then", "within", "days", "last", "next", "this",
    "month", "today", "anniversary", "ago", "from", "now", "timezone", '"x"', "'y'", "`z`", "1",
    "-2.5", "2024-01-01", "2024-01-01T10:00Z", "#", "\n", "\\", '"', "`", "segment Customer where",
]  # fmt: skip

token_soup = st.lists(st.sampled_from(VOCABULARY) | st.text(max_size=3), max_size=30).map(" ".join)


@settings(max_examples=scaled(10_000))
@given(st.one_of(token_soup, st.text(max_size=200)))
def test_random_text_raises_only_segment_errors(text: str) -> None:
    error = _error_of(lambda: grammar.compile_segment(text, DEFAULT, now=NOW))
    if error is not None:
        assert error.code
        assert error.span is not None or text.lstrip().startswith("{")


def _error_of(action: Callable[[], object]) -> SegmentError | None:
    """The SegmentError `action` raises, if any; any other exception fails the test."""
    try:
        action()
    except SegmentError as exc:
        return exc
    return None


keys = st.sampled_from(["node", "body", "items", "op", "value"]) | st.text(max_size=4)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=scaled(1_000))
@given(json_values)
def test_random_json_raises_only_segment_errors(data: Any) -> None:
    if not isinstance(data, dict):
        return
    error = _error_of(lambda: grammar.compile_segment(data, DEFAULT, now=NOW))
    assert error is None or error.code


def _both(schema: GraphSchema) -> st.SearchStrategy[tuple[GraphSchema, a.Segment]]:
    return segments(schema).map(lambda tree: (schema, tree))


generated = st.one_of(_both(DEFAULT), _both(CLUB))


@settings(max_examples=scaled(100))
@given(generated)
def test_generated_segments_compile_deterministically(case: tuple[GraphSchema, a.Segment]) -> None:
    schema, tree = case
    first = grammar.compile_segment(tree, schema, now=NOW)
    second = grammar.compile_segment(tree, schema, now=NOW)
    assert first.cypher == second.cypher
    assert first.forms == second.forms
    prelude = first.cypher[: first.cypher.index("MATCH (n0:")]  # one line per referenced name
    assert prelude.count("OPTIONAL MATCH (s") == len(first.referenced_segments)
    assert prelude.count("activeVersion") == len(first.referenced_segments)


@settings(max_examples=scaled(100))
@given(generated)
def test_text_and_json_round_trip(case: tuple[GraphSchema, a.Segment]) -> None:
    _, tree = case
    text = grammar.format_segment(tree)
    assert grammar.parse(text) == tree
    assert grammar.format_segment(text) == text
    data = json.loads(json.dumps(grammar.to_json(tree)))
    assert grammar.parse(data) == tree
    assert grammar.format_segment(data) == text


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


@settings(max_examples=scaled(100))
@given(segments(DEFAULT, hostile_text), st.booleans())
def test_hostile_values_are_parameters(tree: a.Segment, through_text: bool) -> None:
    source: Any = grammar.format_segment(tree) if through_text else tree
    compiled = grammar.compile_segment(source, DEFAULT, now=NOW)
    forms = compiled.forms
    texts = [
        f.text for f in (forms.members, forms.count, forms.members_in_keys, forms.clause_counts)
    ]
    assert all(MARK_OPEN not in text for text in texts)
    assert all(fragment not in compiled.cypher for fragment in ("DETACH", "CALL", "HACK", "\x00"))
    values = [s for v in compiled.params.values() for s in _strings(v)]
    expected = _written_strings(compiled.tree)
    for value in expected:
        assert value in values or value.lower() in values


def _written_strings(tree: a.Segment) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, a.StringLiteral) and node.value.startswith(MARK_OPEN):
            found.append(node.value)
        elif isinstance(node, tuple):
            for item in node:
                walk(item)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                walk(getattr(node, name))

    walk(tree)
    return found


@given(st.sampled_from(HOSTILE), st.sampled_from(["vip", "x"]))
def test_hostile_segment_names_are_parameters(hostile: str, prefix: str) -> None:
    name = prefix + hostile
    tree = a.Segment(
        audience=a.Identifier(name="Customer"),
        body=a.Group(condition=a.InSegment(name=a.Identifier(name=name))),
    )
    compiled = grammar.compile_segment(tree, DEFAULT, now=NOW)
    assert name in compiled.params.values()
    assert compiled.referenced_segments == (name,)
    assert name not in compiled.cypher
