"""The one place the API asks the segment language whether a definition compiles.

`check_definition` wraps `grammar.compile_segment`: canonical text and JSON form when valid;
otherwise the grammar's error as a coded diagnostic with its span. It never raises for bad
input, so a definition that does not compile can still be saved (as a draft).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from grammar import CompiledSegment, SegmentError, Span, compile_segment, parse
from grammar import ast as a
from grammar.json_form import kind
from graph_schema.model import GraphSchema
from server.store.records import Diagnostic

EMPTY_DEFINITION = "EMPTY_DEFINITION"
AUDIENCE_MISMATCH = "AUDIENCE_MISMATCH"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
TEXT_AND_JSON = "TEXT_AND_JSON"
BOTH_GIVEN = "give the definition as text or as json, not both"
MAX_DEFINITION_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class DefinitionCheck:
    text: str  # canonical text when valid, as written otherwise
    json: str | None  # the JSON form, when valid
    valid: bool
    diagnostics: tuple[Diagnostic, ...]
    references: tuple[str, ...]  # names of the segments it reads
    compiled: CompiledSegment | None = field(default=None, compare=False)
    # Where the text first reads each referenced segment (text only), for the store's checks.
    reference_spans: Mapping[str, Diagnostic] = field(default_factory=dict, compare=False)
    # The definition as sent: what a diagnostic's line and column count in.
    written: str = field(default="", compare=False)

    def refused(self, problems: tuple[Diagnostic, ...]) -> DefinitionCheck:
        """This definition found invalid after compiling (by what it reads, say): kept as
        written, like any invalid one, since the problems' positions count in that text."""
        return DefinitionCheck(self.written, None, False, problems, self.references,
                               written=self.written)  # fmt: skip

    def at_reference(self, name: str, code: str, message: str) -> Diagnostic:
        """A problem with the segment `name` the definition reads, placed at its reference."""
        place = self.reference_spans.get(name)
        if place is None:
            return Diagnostic(code=code, message=message)
        return dataclasses.replace(place, code=code, message=message)


def check_definition(
    text: str | None,
    tree: Any,
    schema: GraphSchema,
    *,
    audience: str | None,
    timezone: str,
    now: datetime,
    allow_pii: bool,
) -> DefinitionCheck:
    """Compile a definition given as text or as its JSON form; `allow_pii` is the caller's
    READ_PII (without it, filters on PII attributes are NOT_PERMITTED)."""
    written = text if text is not None else json.dumps(tree, sort_keys=True)
    if text is not None and tree is not None:
        return _invalid(text, Diagnostic(code=TEXT_AND_JSON, message=BOTH_GIVEN))
    if tree is not None and not isinstance(tree, Mapping):
        message = f"$: expected a Segment node (an object with \"node\"), got {kind(tree)}"
        return _invalid(written, Diagnostic(code="INVALID_JSON", message=message))
    if (text is None and tree is None) or (text is not None and not text.strip()):
        return _invalid(written, Diagnostic(code=EMPTY_DEFINITION, message="it is empty"))
    if len(written) > MAX_DEFINITION_CHARS:
        message = f"at most {MAX_DEFINITION_CHARS} characters"
        return _invalid(written, Diagnostic(code=LIMIT_EXCEEDED, message=message))
    source: str | Mapping[str, Any] = text if text is not None else tree or {}
    try:
        compiled = compile_segment(source, schema, now=now, timezone=timezone, allow_pii=allow_pii)
    except SegmentError as exc:  # with the mistakes found beside it
        return _invalid(written, *(to_diagnostic(e, text) for e in exc.all()))
    if audience and compiled.audience.casefold() != audience.casefold():
        message = f"it selects {compiled.audience}, but the segment's audience is {audience}"
        where = compiled.tree.audience.span if text is not None else None
        return _invalid(written, _placed(AUDIENCE_MISMATCH, message, where, text))
    spans: dict[str, Diagnostic] = {}
    if text is not None:
        for ref in _segment_references(compiled.tree):
            spans.setdefault(ref.name.name, _placed("", "", ref.span, text))
    return DefinitionCheck(
        compiled.canonical,
        json.dumps(compiled.json, sort_keys=True),
        True,
        (),
        compiled.referenced_segments,
        compiled,
        spans,
        written,
    )


def lost_inputs(text: str, names: tuple[str, ...]) -> tuple[Diagnostic, ...]:
    """Diagnostics of a saved definition whose input segments were deleted (with `force`),
    each at the first `in segment` that reads it: the definition compiled when it was saved,
    but no longer does."""
    try:
        refs = list(_segment_references(parse(text)))
    except SegmentError:  # a JSON form saved as written, or no text: say it without a place
        refs = []
    found = []
    for name in names:
        place = next((r.span for r in refs if r.name.name == name), None)
        message = f"segment {name} was deleted; remove `in segment {name}` or name another"
        found.append(_placed("UNKNOWN_SEGMENT", message, place, text))
    return tuple(found)


def _segment_references(node: object) -> Iterator[a.InSegment]:
    """Every `in segment` condition of an AST, in the order of the text."""
    if isinstance(node, a.InSegment):
        yield node
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _segment_references(item)
    elif dataclasses.is_dataclass(node) and not isinstance(node, (type, a.Identifier, Span)):
        for f in dataclasses.fields(node):
            yield from _segment_references(getattr(node, f.name))


def _placed(code: str, message: str, span: Span | None, text: str | None) -> Diagnostic:
    if span is None or text is None:
        return Diagnostic(code=code, message=message)
    end = Span.at(text, span.end)
    return Diagnostic(
        code=code, message=message, line=span.line, column=span.column,
        end_line=end.line, end_column=end.column,
    )  # fmt: skip


def _invalid(written: str, *problems: Diagnostic) -> DefinitionCheck:
    return DefinitionCheck(written, None, False, problems, (), written=written)


def to_diagnostic(error: SegmentError, text: str | None) -> Diagnostic:
    """The grammar's error with its start and end positions (positions only for text)."""
    span = error.span
    message = (
        f"{error.message} Did you mean `{error.suggestion}`?" if error.suggestion else error.message
    )
    return _placed(str(error.code), message, span, text)
