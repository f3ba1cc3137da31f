"""From a saved definition to the query a refresh evaluates (the segment compiler's output).

The refresh engine takes the compiler as a value (`Compiler`), so tests and benchmarks can
evaluate literal queries over their own data, and a worker uses `grammar_compiler`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from graph_schema import GraphSchema
from server.refresh.records import Definition, MemberQuery, SegmentInfo


class DefinitionError(Exception):
    """The definition cannot be evaluated (does not compile, or its type is not refreshable)."""


Compiler = Callable[[SegmentInfo, Definition, datetime], MemberQuery]


def grammar_compiler(schema: GraphSchema, *, candidates: bool = True) -> Compiler:
    """A compiler backed by `grammar.compile_segment`, with `now` fixed for the run (without
    `candidates`: audience-scan plans only, for benchmarks comparing the two)."""

    def compile_definition(
        segment: SegmentInfo, definition: Definition, now: datetime
    ) -> MemberQuery:
        """Raises DefinitionError for a definition that fails to compile (the run is FAILED
        with the compiler's message). An expansion compiles to no query: its members come
        from its source (server.expansion); `now` goes with it as its evaluation time."""
        from grammar import SegmentError, compile_segment  # the language is optional to start

        if segment.type == "EXPANSION":
            profile = schema.require_entity(segment.audience)
            return MemberQuery(cypher="", params={"now": now}, profile_label=profile.label,
                               profile_key=profile.key)  # fmt: skip
        try:
            compiled = compile_segment(
                definition.text, schema, now=now, timezone=segment.timezone, candidates=candidates
            )
        except SegmentError as exc:
            message = f"definition {definition.version} does not compile: {exc}"
            raise DefinitionError(message) from exc
        profile = schema.require_entity(compiled.audience)
        return MemberQuery(
            cypher=compiled.cypher,
            params=dict(compiled.params),
            profile_label=profile.label,
            profile_key=profile.key,
            keys_cypher=compiled.forms.members_in_keys.text,
        )

    return compile_definition
