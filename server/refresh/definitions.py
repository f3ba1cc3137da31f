"""From a saved definition to the query a refresh evaluates (the segment compiler's output).

The refresh engine takes the compiler as a value (`Compiler`), so tests and benchmarks can
evaluate literal queries over their own data, and a worker uses `compile_with_grammar`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from graph_schema import GraphSchema
from server.refresh.records import Definition, MemberQuery, SegmentInfo


class DefinitionError(Exception):
    """The definition cannot be evaluated (does not compile, or its type is not refreshable)."""


Compiler = Callable[[SegmentInfo, Definition, datetime], MemberQuery]


def grammar_compiler(schema: GraphSchema) -> Compiler:
    """A compiler backed by `grammar.compile_segment`, with `now` fixed for the run."""

    def compile_definition(
        segment: SegmentInfo, definition: Definition, now: datetime
    ) -> MemberQuery:
        import grammar  # imported late: the compiler package is optional for a worker's start

        compile_segment: Any = getattr(grammar, "compile_segment", None)
        if compile_segment is None:
            raise DefinitionError("the segment compiler is not available in this build")
        if segment.type == "EXPANSION":
            raise DefinitionError("expansion segments are filled by the scoring engine")
        try:
            compiled = compile_segment(
                definition.json or definition.text, schema, now=now, timezone=segment.timezone
            )
        except Exception as exc:  # the compiler's own error hierarchy, reported as the reason
            raise DefinitionError(
                f"definition {definition.version} does not compile: {exc}"
            ) from exc
        profile = schema.require_entity(segment.audience)
        return MemberQuery(
            cypher=getattr(compiled, "text", None) or compiled.cypher,
            params=dict(compiled.params),
            profile_label=profile.label,
            profile_key=profile.key,
        )

    return compile_definition
