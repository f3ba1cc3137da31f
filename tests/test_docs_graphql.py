"""Every GraphQL example in the docs is valid against the committed schema, and every code
fence is closed (an unclosed one swallowed a section of docs/api.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import GraphQLError, LoneAnonymousOperationRule, build_schema, parse, specified_rules
from graphql import validate as validate_document

from server.api.schema import SDL_PATH
from server.settings import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
# A block may show several operations one after another, as a reader runs them.
RULES = [rule for rule in specified_rules if rule is not LoneAnonymousOperationRule]


def blocks(doc: Path) -> list[tuple[int, str]]:
    text = doc.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1))
            for m in re.finditer(r"^```graphql\n(.*?)^```", text, re.S | re.M)]  # fmt: skip


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_graphql_examples_are_valid(doc: Path) -> None:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    problems = []
    for line, block in blocks(doc):
        try:
            errors = validate_document(schema, parse(block), RULES)
        except GraphQLError as exc:
            errors = [exc]
        problems += [f"{doc.name}:{line}: {e.message}" for e in errors]
    assert problems == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_code_fences_are_closed(doc: Path) -> None:
    fences = [line for line in doc.read_text(encoding="utf-8").splitlines()
              if line.lstrip().startswith("```")]  # fmt: skip
    assert len(fences) % 2 == 0, f"{doc.name}: an unclosed ``` fence"
