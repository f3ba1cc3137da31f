"""`compileSegment`: diagnostics, or canonical text, JSON, explain and an estimated size.

The estimate runs the compiled count and per-clause queries read-only under a time budget;
when the budget runs out the size is reported as not known rather than holding the request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grammar import CompiledSegment
from server.api.context import Deps
from server.api.segments.commands import DefinitionSource
from server.api.segments.definition import DefinitionCheck, check_definition
from server.api.segments.domain import reference_problems
from server.store.evaluate import QueryTimedOut, execute_read

ESTIMATE_BUDGET_S = 0.9


@dataclass(frozen=True, slots=True)
class Estimate:
    count: int | None  # None when the budget ran out
    exact: bool
    audience_total: int | None
    clauses: tuple[tuple[str, int], ...]  # (canonical clause text, profiles satisfying it)
    elapsed_ms: int


@dataclass(frozen=True, slots=True)
class Preview:
    check: DefinitionCheck
    estimate: Estimate | None


async def compile_preview(
    deps: Deps, source: DefinitionSource, audience: str | None, as_of: datetime | None,
    timezone: str, estimate: bool,
) -> Preview:  # fmt: skip
    """Compile as a save would (references included); estimate only a valid definition."""
    now = as_of or deps.clock()
    check = check_definition(
        source.text, source.tree, deps.schema, audience=audience, timezone=timezone, now=now,
        allow_pii=deps.principal.reads_pii,
    )  # fmt: skip
    problems = await reference_problems(deps, check.references, None)
    if problems:
        check = DefinitionCheck(check.text, None, False, tuple(problems), check.references)
    if not estimate or check.compiled is None or not check.valid:
        return Preview(check, None)
    return Preview(check, await estimate_size(deps, check.compiled))


async def estimate_size(deps: Deps, compiled: CompiledSegment) -> Estimate:
    start = time.perf_counter()
    count_q, clauses_q = compiled.forms.count, compiled.forms.clause_counts
    count, clause_row = await asyncio.gather(
        _run(deps, count_q.text, dict(count_q.params)),
        _run(deps, clauses_q.text, dict(clauses_q.params)),
    )
    elapsed = int((time.perf_counter() - start) * 1000)
    per_clause = tuple(
        (text, int(clause_row[f"c{i}"])) for i, text in enumerate(compiled.clauses)
    ) if clause_row else ()  # fmt: skip
    return Estimate(
        count=int(count["count"]) if count else None,
        exact=count is not None,
        audience_total=int(clause_row["total"]) if clause_row else None,
        clauses=per_clause,
        elapsed_ms=elapsed,
    )


async def _run(deps: Deps, text: str, params: dict[str, Any]) -> dict[str, Any] | None:
    try:
        rows = await execute_read(deps.db, text, params, ESTIMATE_BUDGET_S)
    except QueryTimedOut:
        return None
    return dict(rows[0]) if rows else None
