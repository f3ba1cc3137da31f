"""GraphQL types of `compileSegment`."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from server.api.segments.preview import Estimate, Preview
from server.api.segments.types import DefinitionDiagnostic


@strawberry.type(description="What a definition compiles to.")
class SegmentExplain:
    cypher: str = strawberry.field(description="The members query; values are parameters.")
    parameters: JSON
    paths: list[str] = strawberry.field(description="Relationship paths the query walks.")
    timezone: str
    now: dt.datetime = strawberry.field(description="The instant relative dates resolved to.")


@strawberry.type
class ClauseEstimate:
    text: str = strawberry.field(description="Canonical text of a top-level clause.")
    count: int = strawberry.field(description="Profiles satisfying this clause alone.")


@strawberry.type
class SegmentEstimate:
    count: int | None = strawberry.field(description="Members; null when over the time budget.")
    exact: bool
    margin: int | None = strawberry.field(
        description="Half-width of the 95% interval of a sampled count; 0 when exact."
    )
    sample_size: int | None = strawberry.field(description="Profiles a sampled count read.")
    audience_total: int | None
    clauses: list[ClauseEstimate]
    elapsed_ms: int

    @staticmethod
    def of(e: Estimate) -> SegmentEstimate:
        return SegmentEstimate(
            count=e.count, exact=e.exact, margin=e.margin, sample_size=e.sample_size,
            audience_total=e.audience_total,
            clauses=[ClauseEstimate(text=t, count=c) for t, c in e.clauses],
            elapsed_ms=e.elapsed_ms,
        )  # fmt: skip


@strawberry.type
class CompileSegmentResult:
    valid: bool
    diagnostics: list[DefinitionDiagnostic]
    text: str = strawberry.field(description="Canonical text when valid, as written otherwise.")
    json: JSON | None
    audience: str | None
    referenced_segments: list[str]
    explain: SegmentExplain | None
    estimate: SegmentEstimate | None

    @staticmethod
    def of(p: Preview) -> CompileSegmentResult:
        check, compiled = p.check, p.check.compiled if p.check.valid else None
        explain = None
        if compiled is not None:
            explain = SegmentExplain(
                cypher=compiled.cypher, parameters=cast(JSON, _plain(compiled.params)),
                paths=list(compiled.paths), timezone=compiled.timezone, now=compiled.now,
            )  # fmt: skip
        return CompileSegmentResult(
            valid=check.valid,
            diagnostics=[DefinitionDiagnostic.of(d) for d in check.diagnostics],
            text=check.text,
            json=json.loads(check.json) if check.json else None,
            audience=compiled.audience if compiled else None,
            referenced_segments=list(check.references),
            explain=explain,
            estimate=SegmentEstimate.of(p.estimate) if p.estimate else None,
        )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value
