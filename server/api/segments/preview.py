"""`compileSegment`: diagnostics, or canonical text, JSON, explain and an estimated size.

The estimate runs the compiled count and per-clause queries read-only under a time budget.
For audiences over SAMPLE_ABOVE profiles a sampled estimate runs beside the exact count: about
SAMPLE random profiles are drawn and the definition is evaluated on them alone (the compiled
`members_in_keys` form), giving the size with a 95% margin. The exact count wins when it
finishes in time; otherwise the sample answers, so an estimate always comes in under a second.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from grammar import CompiledSegment
from grammar.cypher import escape
from grammar.neighbourhood import KEYS_PARAM
from graph_schema import Entity
from server.api.context import Deps
from server.api.segments.commands import DefinitionSource
from server.api.segments.definition import DefinitionCheck, check_definition
from server.api.segments.domain import reference_problems
from server.store.evaluate import QueryTimedOut, execute_read

log = logging.getLogger("segments.estimate")
ESTIMATE_BUDGET_S = 0.9
SAMPLE_ABOVE = 100_000
SAMPLE = 20_000
SAMPLE_TTL_S = 1800
SAMPLE_DRAW_S = 10.0  # the first estimate of a large audience may draw its sample past budget
Z95 = 1.96


@dataclass(frozen=True, slots=True)
class Estimate:
    count: int | None  # None when the budget ran out
    exact: bool
    audience_total: int | None
    clauses: tuple[tuple[str, int], ...]  # (canonical clause text, profiles satisfying it)
    elapsed_ms: int
    margin: int | None = None  # a sampled count's 95% half-width; 0 when exact
    sample_size: int | None = None  # profiles the sampled count looked at


@dataclass(frozen=True, slots=True)
class Sampled:
    count: int
    margin: int
    size: int
    total: int


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
    problems = await reference_problems(deps, check, None)
    if problems:
        check = check.refused(tuple(problems))
    if not estimate or check.compiled is None or not check.valid:
        return Preview(check, None)
    return Preview(check, await estimate_size(deps, check.compiled))


async def estimate_size(deps: Deps, compiled: CompiledSegment) -> Estimate:
    start = time.perf_counter()
    count_q, clauses_q = compiled.forms.count, compiled.forms.clause_counts
    total = await audience_size(deps, compiled.bound.audience)
    sampling = total > SAMPLE_ABOVE
    # Whatever is done when the budget ends answers: the server's transaction timeout alone
    # overran it by a second on a loaded machine.
    deadline = start + ESTIMATE_BUDGET_S
    exact = asyncio.ensure_future(_run(deps, count_q.text, dict(count_q.params)))
    if sampling:
        # On two cores three heavy queries starve each other: the size first (exact, or the
        # sample meanwhile), the per-clause counts only with the time that is left.
        sample = asyncio.ensure_future(_sampled(deps, compiled, total))
        await _exact_or_sampled(exact, sample, deadline)
        by_clause = asyncio.ensure_future(
            _run(deps, clauses_q.text, dict(clauses_q.params), _left(deadline))
        )
    else:
        sample = asyncio.ensure_future(_nothing())
        by_clause = asyncio.ensure_future(_run(deps, clauses_q.text, dict(clauses_q.params)))
    await asyncio.wait([exact, by_clause, sample], timeout=_left(deadline))
    count, clause_row, sampled = _result(exact), _result(by_clause), _result(sample)
    elapsed = int((time.perf_counter() - start) * 1000)
    per_clause = tuple(
        (text, int(clause_row[f"c{i}"])) for i, text in enumerate(compiled.clauses)
    ) if clause_row else ()  # fmt: skip
    if count is None and sampled is not None:
        return Estimate(
            count=sampled.count, exact=False, audience_total=total, clauses=per_clause,
            elapsed_ms=elapsed, margin=sampled.margin, sample_size=sampled.size,
        )  # fmt: skip
    return Estimate(
        count=int(count["count"]) if count else None,
        exact=count is not None,
        audience_total=total,
        clauses=per_clause,
        elapsed_ms=elapsed,
        margin=0 if count else None,
    )


T = TypeVar("T")


def _left(deadline: float) -> float:
    return max(0.05, deadline - time.perf_counter())


async def _exact_or_sampled(
    exact: asyncio.Future[Any], sample: asyncio.Future[Any], deadline: float
) -> None:
    """Until the exact count is in (a timed-out one is no count), or the sample is when the
    exact count failed, or the deadline: a sampled count only stands in."""
    while time.perf_counter() < deadline:
        if exact.done() and _result(exact) is not None:
            if not sample.done():
                sample.cancel()  # the draw itself is shielded: it still fills the kept sample
            return
        waiting = [t for t in (exact, sample) if not t.done()]
        if not waiting:
            return
        await asyncio.wait(waiting, timeout=_left(deadline), return_when=asyncio.FIRST_COMPLETED)


def _result(task: asyncio.Future[T | None]) -> T | None:
    """A finished task's result; an unfinished one is cancelled (the answer is None)."""
    if not task.done():
        task.cancel()
        return None
    if task.cancelled():
        return None
    if (error := task.exception()) is not None:
        log.warning("estimate query failed: %s", error)
        return None
    return task.result()


async def _nothing() -> None:
    return None


async def audience_size(deps: Deps, entity: Entity) -> int:
    """From Neo4j's count store: instant whatever the size."""
    found = await deps.db.read(f"MATCH (n:{escape.label(entity)}) RETURN count(n) AS n")
    return int(found[0]["n"])


async def sample_keys(deps: Deps, entity: Entity, total: int) -> list[Any] | None:
    """About SAMPLE random keys of the audience. Drawing them reads every profile, so a draw
    is kept in Redis (shared by every API process) for SAMPLE_TTL_S; a fresh one is drawn once
    the audience's size moved by more than a tenth. One draw at a time per audience (a Redis
    lock): estimates arriving meanwhile wait for it rather than scanning beside it."""
    cache = f"estimate:sample:{entity.label}"
    while True:
        kept = await _kept_sample(deps, cache, total)
        if kept is not None:
            return kept
        if await deps.redis.set(f"{cache}:drawing", "1", nx=True, ex=int(SAMPLE_DRAW_S) + 1):
            break
        await asyncio.sleep(0.05)  # another request draws it; the caller's budget bounds this
    try:
        draw = (
            f"MATCH (n:{escape.label(entity)}) WHERE rand() < $p "
            f"RETURN collect({escape.prop('n', entity.key_attribute)}) AS keys"
        )
        row = await _run(deps, draw, {"p": min(1.0, SAMPLE / max(total, 1))}, SAMPLE_DRAW_S)
        if row is None or not row["keys"]:
            return None
        keys = list(row["keys"])
        await deps.redis.set(cache, json.dumps({"total": total, "keys": keys}), ex=SAMPLE_TTL_S)
        return keys
    finally:
        await deps.redis.delete(f"{cache}:drawing")


async def _kept_sample(deps: Deps, cache: str, total: int) -> list[Any] | None:
    cached = await deps.redis.get(cache)
    if cached is None:
        return None
    kept = json.loads(cached)
    return list(kept["keys"]) if abs(kept["total"] - total) <= total / 10 else None


async def _sampled(deps: Deps, compiled: CompiledSegment, total: int) -> Sampled | None:
    """The definition evaluated on about SAMPLE random profiles, scaled up: the count with a
    95% margin (normal approximation of the binomial). None over the budget."""
    started = time.perf_counter()
    # Shielded: when the estimate's budget ends first, the draw still finishes and is kept
    # for the next estimate instead of being thrown away with the request.
    keys = await asyncio.shield(sample_keys(deps, compiled.bound.audience, total))
    if not keys:
        return None
    in_keys = compiled.forms.members_in_keys
    entity = compiled.bound.audience
    # Matches over the sampled profiles that still exist: a kept sample may name deleted ones.
    counted = (
        "CALL () {\n" + in_keys.text + "\n}\nWITH count(*) AS count\n"
        f"MATCH (n:{escape.label(entity)}) WHERE {escape.prop('n', entity.key_attribute)} "
        f"IN ${KEYS_PARAM} RETURN count, count(n) AS present"
    )
    left = ESTIMATE_BUDGET_S - (time.perf_counter() - started)
    row = await _run(deps, counted, {**in_keys.params, KEYS_PARAM: keys}, max(0.05, left))
    if row is None or not row["present"]:
        return None
    size = int(row["present"])
    share = int(row["count"]) / size
    margin = Z95 * math.sqrt(share * (1 - share) / size) * total
    return Sampled(count=round(share * total), margin=math.ceil(margin), size=size, total=total)


async def _run(
    deps: Deps, text: str, params: dict[str, Any], budget_s: float = ESTIMATE_BUDGET_S
) -> dict[str, Any] | None:
    try:
        rows = await execute_read(deps.db, text, params, budget_s)
    except QueryTimedOut:
        return None
    return dict(rows[0]) if rows else None
