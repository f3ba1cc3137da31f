"""One scoring run of a published model: evaluate every rule's compiled query, combine the
facts with `scoring.score_profile`, write what changed back on the profiles, keep history.

Idempotent: values are compared with what the profile holds, so a second run over the same
data writes nothing and adds no history; only a `_ScoreRun` records that it ran. Profiles that
left the audience lose their score (one history entry with score null).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph_schema.model import GraphSchema
from scoring import RuleFacts, SalesReadyState, score_profile, transitioned, update_sales_ready
from server.leads import graph, store
from server.leads.compile import CompiledModel, compile_model
from server.leads.records import ScoreRunRecord
from server.leads.spec import RuleFrequency
from server.store.db import Db

Publish = Callable[[dict[str, Any]], Awaitable[None]]


class ModelNotScorable(Exception):
    """The published version no longer compiles against the schema (it changed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreEnv:
    db: Db
    schema: GraphSchema
    publish: Publish | None = None
    batch_size: int = 5000


@dataclass(slots=True)
class _Progress:
    env: ScoreEnv
    model_id: str
    run_id: str

    async def phase(self, phase: str, percent: int = 0) -> None:
        if self.env.publish is not None:
            await self.env.publish({"modelId": self.model_id, "runId": self.run_id,
                                    "phase": phase, "percent": percent})  # fmt: skip


async def score_model(
    env: ScoreEnv, model_id: str, now: datetime | None = None
) -> ScoreRunRecord | None:
    """Run the model's published version. None when the model is missing or not published.
    Raises ModelNotScorable, Neo4j errors."""
    at = _millis(now or datetime.now(UTC))
    model = await store.get_model(env.db, model_id)
    if model is None or model.published_version is None:
        return None
    version = await store.get_version(env.db, model_id, model.published_version)
    assert version is not None, "a published version is never deleted"
    compiled, problems = compile_model(version.spec, env.schema, now=at)
    if compiled is None:
        raise ModelNotScorable("; ".join(f"{p.code}: {p.message}" for p in problems))
    progress = _Progress(env, model_id, uuid.uuid4().hex)
    started = time.monotonic()
    await progress.phase("EVALUATING")
    await graph.ensure_score_index(env.db, compiled.entity)
    facts = await _facts(env.db, compiled)
    previous = await graph.scored_profiles(env.db, compiled.entity)
    scored_by = f"{model_id}:{version.version}"
    rows, ready = _changes(compiled, facts, previous, scored_by, at)
    await _write(env, progress, compiled, model_id, version.version, rows, at)
    run = ScoreRunRecord(
        id=progress.run_id, model_id=model_id, version=version.version, at=at,
        scored=len(facts.audience), changed=sum(1 for r in rows if r["score"] is not None),
        cleared=sum(1 for r in rows if r["score"] is None), newly_sales_ready=ready,
        seconds=round(time.monotonic() - started, 3),
    )  # fmt: skip
    await graph.record_run(env.db, run)
    await progress.phase("DONE", 100)
    return run


@dataclass(frozen=True, slots=True)
class Facts:
    audience: list[Any]
    per_rule: dict[str, dict[Any, int]]  # rule id -> key -> matches (1 for a plain hold)
    ages: dict[str, dict[Any, list[float]]] = field(default_factory=dict)  # half-life rules


async def read_facts(db: Db, compiled: CompiledModel) -> Facts:
    """Every rule's matches over the graph (the predictive models' comparison reads them)."""
    return await _facts(db, compiled)


async def _facts(db: Db, compiled: CompiledModel) -> Facts:
    if compiled.audience is None:
        audience = await graph.all_keys(db, compiled.entity)
    else:
        audience = await graph.read_keys(db, compiled.audience.cypher, compiled.audience.params)
    per_rule: dict[str, dict[Any, int]] = {}
    ages: dict[str, dict[Any, list[float]]] = {}
    for rule in compiled.rules:
        if rule.ages is not None:
            ages[rule.rule_id] = await graph.read_ages(db, rule.ages.text, rule.ages.params)
            per_rule[rule.rule_id] = {k: len(a) for k, a in ages[rule.rule_id].items()}
        elif rule.count is not None:
            per_rule[rule.rule_id] = await graph.read_counts(db, rule.count.text, rule.count.params)
        else:
            keys = await graph.read_keys(db, rule.segment.cypher, rule.segment.params)
            per_rule[rule.rule_id] = dict.fromkeys(keys, 1)
    return Facts(audience=audience, per_rule=per_rule, ages=ages)


def rule_facts(compiled: CompiledModel, facts: Facts, key: Any) -> dict[str, RuleFacts]:
    """The facts `scoring` reads: a holding rule is one match at age 0 (windows are in the
    condition itself), so ONCE gives its points, PER_MATCH its points per match up to the cap
    and WHEN_NONE its points only without any."""
    found: dict[str, RuleFacts] = {}
    for rule in compiled.rules:
        matches = facts.per_rule[rule.rule_id].get(key, 0)
        if rule.rule_id in facts.ages:  # weighed by age: scoring applies the half-life and cap
            ages = tuple(facts.ages[rule.rule_id].get(key, ()))
            found[rule.rule_id] = RuleFacts(held=matches > 0, ages_days=ages)
        elif rule.spec.frequency is RuleFrequency.ONCE:
            found[rule.rule_id] = RuleFacts(held=matches > 0)
        else:
            counted = min(matches, rule.spec.cap or matches)
            found[rule.rule_id] = RuleFacts(held=matches > 0, ages_days=(0.0,) * counted)
    return found


def _changes(
    compiled: CompiledModel, facts: Facts, previous: dict[Any, dict[str, Any]], scored_by: str,
    at: datetime,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """The rows to write (changed profiles) and how many became sales-ready."""
    rows: list[dict[str, Any]] = []
    newly_ready = 0
    threshold = compiled.points.sales_ready_threshold
    for key in facts.audience:
        result = score_profile(compiled.points, rule_facts(compiled, facts, key))
        old = previous.get(key, {})
        before = SalesReadyState(bool(old.get("ready")), _from_millis(old.get("readyAt")))
        after = (
            before if threshold is None else update_sales_ready(before, result.score, threshold, at)
        )
        newly_ready += transitioned(before, after)
        row = {"key": key, "score": result.score, "grade": result.grade, "ready": after.ready,
               "readyAt": after.since, "rules": [float(r.points) for r in result.breakdown],
               "scoredBy": scored_by}  # fmt: skip
        if threshold is None:
            row |= {"ready": None, "readyAt": None}
        historic = (old.get("score"), old.get("grade"), old.get("ready")) != (
            row["score"], row["grade"], row["ready"])  # fmt: skip
        if historic or old.get("rules") != row["rules"] or old.get("scoredBy") != scored_by:
            rows.append(row | {"historic": historic})
    members = set(facts.audience)
    for key in previous.keys() - members:
        rows.append({"key": key, "score": None, "grade": None, "ready": None, "readyAt": None,
                     "rules": None, "scoredBy": None, "historic": True})  # fmt: skip
    return rows, newly_ready


def _from_millis(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value // 1000, UTC).replace(microsecond=value % 1000 * 1000)


def _millis(at: datetime) -> datetime:
    """Times are kept to the millisecond, as `scored_profiles` reads them back."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def _write(
    env: ScoreEnv, progress: _Progress, compiled: CompiledModel, model_id: str, version: int,
    rows: list[dict[str, Any]], at: datetime,
) -> None:  # fmt: skip
    size = env.batch_size
    for start in range(0, len(rows), size):
        await graph.write_scores(env.db, compiled.entity, model_id, version,
                                 rows[start : start + size], at)  # fmt: skip
        done = min(start + size, len(rows))
        await progress.phase("WRITING", 100 * done // len(rows))
