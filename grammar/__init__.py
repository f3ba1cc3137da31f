"""The segment language: parse, validate against a graph schema, and compile to Cypher.

Pipeline: text (or JSON) -> `parser` -> AST (`ast`) -> `validate` against a `GraphSchema` ->
bound AST (`bound`) -> `cypher.printer` -> Cypher text + parameters. Imports only lark, the
standard library and `graph_schema`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from grammar import ast
from grammar import bound as b
from grammar.cypher.forms import CypherForms, print_cypher
from grammar.cypher.printer import CompiledCypher, Param
from grammar.errors import ErrorCode, SegmentError, Span
from grammar.formatter import format_ast
from grammar.json_form import decode_json, to_json
from grammar.parser import parse_segment
from grammar.summary import clause_texts, resolved_paths
from grammar.validate import validate_segment
from graph_schema import GraphSchema

Source = str | Mapping[str, Any] | ast.Segment
"""Segment text; its JSON form (a mapping, or a string starting with `{`); or an AST."""


@dataclass(frozen=True, kw_only=True)
class CompiledSegment:
    """What the compiler made of a segment. The members query is printed eagerly; the other
    forms and descriptions are derived on first use, since most callers (a refresh, a live
    update, an estimate) read one or two of them."""

    audience: str  # entity name
    timezone: str
    now: dt.datetime
    cypher: str  # the members query: `RETURN <profile key> AS key`
    params: dict[str, Param]  # of every form ($keys apart)
    forms: CypherForms  # members / count / members_in_keys / clause_counts
    referenced_segments: tuple[str, ...]
    tree: ast.Segment
    bound: b.BoundSegment

    @cached_property
    def canonical(self) -> str:
        """Canonical text (`format_segment`)."""
        return format_ast(self.tree)

    @cached_property
    def json(self) -> dict[str, Any]:
        """The JSON form."""
        data = to_json(self.tree)
        assert isinstance(data, dict)
        return data

    @cached_property
    def clauses(self) -> tuple[str, ...]:
        """Canonical text of clause c0, c1, ... of `forms.clause_counts`."""
        return clause_texts(self.tree)

    @cached_property
    def paths(self) -> tuple[str, ...]:
        """Every relationship path used, e.g. "Customer -PLACED-> Order"."""
        return resolved_paths(self.bound)


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    text: str
    cypher: str
    params: dict[str, Param]
    timezone: str
    now: dt.datetime
    paths: tuple[str, ...]
    referenced_segments: tuple[str, ...]
    clauses: tuple[tuple[str, str], ...]  # (clause text, its column in the clause_counts query)
    clause_counts: CompiledCypher


def parse(source: Source) -> ast.Segment:
    """The AST of segment text or of its JSON form.

    Raises SegmentError (SYNTAX_*, INVALID_LITERAL, INVALID_JSON, LIMIT_EXCEEDED).
    """
    if isinstance(source, ast.Segment):
        return source
    if isinstance(source, str) and not source.lstrip().startswith("{"):
        return parse_segment(source)
    return from_json(source)


def from_json(data: str | Mapping[str, Any]) -> ast.Segment:
    """The AST of a JSON form (parsed or as a string). Values are checked as in text, by
    reparsing the canonical text. Raises SegmentError (INVALID_JSON, LIMIT_EXCEEDED, ...)."""
    if isinstance(data, str):
        text = data
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            span = Span.at(text, exc.pos)
            raise SegmentError(
                ErrorCode.INVALID_JSON, f"Not valid JSON: {exc.msg}.", span
            ) from None
        except (ValueError, RecursionError) as exc:
            raise SegmentError(ErrorCode.INVALID_JSON, f"Not valid JSON: {exc}") from None
    text = format_ast(decode_json(data))
    try:
        return parse_segment(text)
    except SegmentError as exc:
        if exc.code.startswith("SYNTAX_"):
            raise SegmentError(ErrorCode.INVALID_JSON, f"Invalid segment tree: {exc}") from None
        raise


def format_segment(source: Source) -> str:
    """Canonical text: a fixed point (`format_segment(format_segment(x)) == format_segment(x)`).
    Raises SegmentError as `parse` does."""
    return format_ast(parse(source))


def compile_segment(
    source: Source,
    schema: GraphSchema,
    *,
    now: dt.datetime | None = None,
    timezone: str | None = None,
    allow_pii: bool = True,
    candidates: bool = True,
) -> CompiledSegment:
    """Compile a segment against `schema`. `now` (default: the current time; naive = UTC) fixes
    every relative date; `timezone` applies when the segment declares none (default UTC);
    without `allow_pii`, conditions on PII attributes raise NOT_PERMITTED; without
    `candidates`, the members query never starts from related records (see
    `grammar.cypher.candidates`; for benchmarks and tests that compare the two plans).

    Raises SegmentError: every code of `ErrorCode` (see `parse` and `validate_segment`).
    """
    tree = parse(source)
    bound = validate_segment(tree, schema, now=now, timezone=timezone, allow_pii=allow_pii)
    forms = print_cypher(bound, candidates=candidates)
    return CompiledSegment(
        audience=bound.audience.name,
        timezone=bound.timezone,
        now=bound.now,
        cypher=forms.members.text,
        params=forms.members.params,
        forms=forms,
        referenced_segments=bound.referenced_segments,
        tree=tree,
        bound=bound,
    )


def explain(
    source: Source,
    schema: GraphSchema,
    *,
    now: dt.datetime | None = None,
    timezone: str | None = None,
) -> Explanation:
    """What a segment compiles to and why: Cypher, parameters, resolved paths, time zone and
    "now", and the per-clause breakdown. Raises SegmentError as `compile_segment` does."""
    compiled = compile_segment(source, schema, now=now, timezone=timezone)
    columns = tuple(f"c{i}" for i in range(len(compiled.clauses)))
    return Explanation(
        text=compiled.canonical,
        cypher=compiled.cypher,
        params=compiled.params,
        timezone=compiled.timezone,
        now=compiled.now,
        paths=compiled.paths,
        referenced_segments=compiled.referenced_segments,
        clauses=tuple(zip(compiled.clauses, columns, strict=True)),
        clause_counts=compiled.forms.clause_counts,
    )


__all__ = [
    "CompiledCypher",
    "CompiledSegment",
    "CypherForms",
    "ErrorCode",
    "Explanation",
    "SegmentError",
    "Source",
    "Span",
    "compile_segment",
    "explain",
    "format_segment",
    "from_json",
    "parse",
    "to_json",
]
