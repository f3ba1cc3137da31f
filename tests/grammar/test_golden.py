"""Golden files: segment text -> Cypher + params, byte for byte (see golden_io)."""

from __future__ import annotations

import pytest

import grammar
from tests.grammar.golden_io import (
    GOLDEN,
    UPDATE,
    cases,
    compile_case,
    params_text,
    schema_for,
)
from tests.grammar.schemas import NOW


@pytest.mark.parametrize("name", cases())
def test_golden_cypher_and_params(name: str) -> None:
    compiled = compile_case(name)
    cypher_file, params_file = GOLDEN / f"{name}.cypher", GOLDEN / f"{name}.params.json"
    if UPDATE:
        cypher_file.write_text(compiled.cypher + "\n")
        params_file.write_text(params_text(compiled.params))
    assert compiled.cypher + "\n" == cypher_file.read_text()
    assert params_text(compiled.params) == params_file.read_text()


@pytest.mark.parametrize("name", cases())
def test_golden_is_deterministic_and_now_only_changes_params(name: str) -> None:
    text = (GOLDEN / f"{name}.seg").read_text()
    first = compile_case(name)
    assert compile_case(name).cypher == first.cypher
    later = grammar.compile_segment(text, schema_for(name), now=NOW.replace(year=2030))
    assert later.forms == first.forms or later.cypher == first.cypher
    assert later.forms.clause_counts.text == first.forms.clause_counts.text


@pytest.mark.parametrize("name", cases())
def test_golden_canonical_text_is_a_fixed_point(name: str) -> None:
    compiled = compile_case(name)
    assert grammar.format_segment(compiled.canonical) == compiled.canonical
    assert grammar.parse(compiled.canonical) == compiled.tree
    again = grammar.compile_segment(compiled.canonical, schema_for(name), now=NOW)
    assert again.cypher == compiled.cypher
    assert again.params == compiled.params
