"""Scoring runs end to end on the real Neo4j: every frequency option against an independent
Python computation on the seeded rows, sales-ready transitions, idempotence, history."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import neo4j
import pytest
from arq.connections import RedisSettings, create_pool

from grammar import compile_segment
from graph_schema import default_schema
from server.leads import graph, store
from server.leads.compile import compile_model
from server.leads.jobs import score_job_id, score_tick
from server.leads.run import ScoreEnv, score_model
from server.leads.schema_attributes import with_score_attributes
from server.leads.spec import GradeSpec, ModelSpec, RuleFrequency, RuleSpec
from server.settings import Settings
from server.store import Db, ensure_schema
from tests.leads.conftest import NOW, Seeded, seed_customers

T = TypeVar("T")
SCHEMA = with_score_attributes(default_schema())
SPEC = ModelSpec(
    audience='segment Customer where country = "NO"',
    rules=(
        RuleSpec(condition='city = "Oslo"', points=10),
        RuleSpec(condition='any EmailEvent (type = "open" and at in last 30 days)', points=3,
                 frequency=RuleFrequency.PER_MATCH, cap=4),
        RuleSpec(condition='any EmailEvent (type = "click")', points=-5,
                 frequency=RuleFrequency.WHEN_NONE),
        RuleSpec(condition='count EmailEvent (type = "click") >= 2', points=2,
                 frequency=RuleFrequency.PER_MATCH),
    ),
    grades=(GradeSpec(name="A", min_score=15), GradeSpec(name="B", min_score=5, max_score=15),
            GradeSpec(name="C", max_score=5)),
    sales_ready_threshold=15,
)  # fmt: skip


def expected_scores(seeded: Seeded, now: Any = NOW) -> dict[str, float]:
    """The model's arithmetic written out by hand over the seeded rows."""
    scores: dict[str, float] = {}
    for c in seeded.customers:
        if c["country"] != "NO":
            continue
        mine = [e for e in seeded.events if e["customerId"] == c["customerId"]]
        opens = [
            e for e in mine if e["type"] == "open" and now - timedelta(days=30) <= e["at"] < now
        ]
        clicks = [e for e in mine if e["type"] == "click"]
        score = 10.0 if c["city"] == "Oslo" else 0.0
        score += 3.0 * min(len(opens), 4)
        score += -5.0 if not clicks else 0.0
        score += 2.0 * len(clicks) if len(clicks) >= 2 else 0.0
        scores[str(c["customerId"])] = score
    return scores


def grade(score: float) -> str:
    return "A" if score >= 15 else "B" if score >= 5 else "C"


def run(settings: Settings, work: Callable[[Db], Awaitable[T]]) -> T:
    async def main() -> T:
        auth = (settings.neo4j_user, settings.neo4j_password)
        async with neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
            db = Db(driver, settings.neo4j_database)
            await ensure_schema(db)
            return await work(db)

    return asyncio.run(main())


async def published(db: Db, spec: ModelSpec = SPEC) -> str:
    compiled, problems = compile_model(spec, SCHEMA)
    assert compiled is not None, problems
    model = await store.create_model(db, "m1", "hot_leads", "", spec, compiled.entity.name,
                                     compiled.referenced_segments, "test", NOW)  # fmt: skip
    await store.publish_model(db, model.id, NOW)
    return model.id


def profiles(driver: neo4j.Driver) -> dict[str, dict[str, Any]]:
    found = driver.execute_query(
        "MATCH (c:Customer) RETURN c.customerId AS key, c.leadScore AS score, "
        "c.leadGrade AS grade, c.salesReady AS ready, c.salesReadyAt AS readyAt"
    ).records
    return {r["key"]: dict(r) for r in found}


def history_count(driver: neo4j.Driver) -> int:
    return int(driver.execute_query("MATCH (h:_ScoreHistory) RETURN count(h) AS n").records[0]["n"])


@pytest.fixture
def seeded(empty_graph: neo4j.Driver) -> Seeded:
    return seed_customers(empty_graph)


def test_scores_match_the_hand_computation_and_a_rerun_changes_nothing(
    empty_graph: neo4j.Driver, seeded: Seeded, settings: Settings
) -> None:
    async def work(db: Db) -> None:
        model_id = await published(db)
        env = ScoreEnv(db=db, schema=SCHEMA, batch_size=7)
        first = await score_model(env, model_id, NOW)
        assert first is not None
        assert first.scored == len(expected_scores(seeded))
        before = profiles(empty_graph)
        history = history_count(empty_graph)
        second = await score_model(env, model_id, NOW + timedelta(seconds=1))
        assert second is not None
        assert second.changed == 0
        assert second.cleared == 0
        assert profiles(empty_graph) == before
        assert history_count(empty_graph) == history

    run(settings, work)
    expected = expected_scores(seeded)
    found = profiles(empty_graph)
    assert {k: p["score"] for k, p in found.items() if p["score"] is not None} == expected
    assert all(found[k]["grade"] == grade(s) for k, s in expected.items())
    assert all(found[k]["ready"] == (s >= 15) for k, s in expected.items())
    assert history_count(empty_graph) == len(expected)  # one entry each: the first score
    # every frequency option mattered on this data (the test could not pass by accident)
    assert set(expected.values()) & {-5.0}
    assert max(expected.values()) >= 20


def test_sales_ready_at_is_kept_while_ready_and_leavers_lose_their_score(
    empty_graph: neo4j.Driver, seeded: Seeded, settings: Settings
) -> None:
    expected = expected_scores(seeded)
    ready = next(k for k, s in expected.items() if s >= 15)
    almost = next(k for k, s in expected.items() if 9 <= s < 15)
    leaver = next(k for k in expected if k not in (ready, almost))
    later = NOW + timedelta(hours=2)

    async def work(db: Db) -> None:
        model_id = await published(db)
        env = ScoreEnv(db=db, schema=SCHEMA)
        await score_model(env, model_id, NOW)
        empty_graph.execute_query(  # two fresh opens push `almost` over the threshold
            "MATCH (c:Customer {customerId: $k}) CREATE (c)-[:RECEIVED]->(:EmailEvent "
            "{emailEventId: $k + '-new1', type: 'open', at: $at}), (c)-[:RECEIVED]->"
            "(:EmailEvent {emailEventId: $k + '-new2', type: 'open', at: $at})",
            k=almost, at=later - timedelta(hours=1),
        )  # fmt: skip
        empty_graph.execute_query(
            "MATCH (c:Customer {customerId: $k}) SET c.country = 'FR'", k=leaver
        )
        second = await score_model(env, model_id, later)
        assert second is not None
        assert second.cleared == 1
        assert second.newly_sales_ready >= 1

    run(settings, work)
    found = profiles(empty_graph)
    assert found[ready]["ready"] is True
    assert found[ready]["readyAt"].to_native() == NOW
    assert found[almost]["ready"] is True
    assert found[almost]["readyAt"].to_native() == later
    assert found[leaver]["score"] is None
    assert found[leaver]["grade"] is None
    entries = empty_graph.execute_query(
        "MATCH (h:_ScoreHistory {key: $k}) RETURN h.score AS s ORDER BY h.at", k=leaver
    ).records
    assert [r["s"] for r in entries][-1] is None
    assert len(entries) == 2


def test_segments_select_profiles_by_the_written_scores(
    empty_graph: neo4j.Driver, seeded: Seeded, settings: Settings
) -> None:
    async def work(db: Db) -> list[Any]:
        model_id = await published(db)
        await score_model(ScoreEnv(db=db, schema=SCHEMA), model_id, NOW)
        segment = compile_segment(
            'segment Customer where leadScore >= 12 and leadGrade = "B"', SCHEMA
        )
        return await graph.read_keys(db, segment.cypher, segment.params)

    found = run(settings, work)
    expected = {k for k, s in expected_scores(seeded).items() if s >= 12 and grade(s) == "B"}
    assert expected
    assert set(found) == expected


def test_the_tick_queues_published_models_when_their_schedule_comes_due(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    async def work(db: Db) -> list[list[str]]:
        model_id = await published(db)  # created at NOW, 12:00 UTC
        draft, _ = compile_model(SPEC, SCHEMA)
        assert draft is not None
        await store.create_model(db, "m2", "draft_only", "", SPEC, "Customer", (), "t", NOW)
        arq = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        try:
            await arq.flushdb()
            ticks = [await score_tick(arq, db, NOW + timedelta(minutes=m)) for m in (59, 60, 61)]
            ticks.append(await score_tick(arq, db, NOW + timedelta(hours=2, minutes=1)))
            queued = [j.job_id for j in await arq.queued_jobs()]
        finally:
            await arq.aclose()
        assert queued == [score_job_id(model_id, 1)]  # one job: the later tick found it waiting
        return ticks

    # NOW is 12:00; the 2-hour cron fires at 14:00: not at 12:59 or 13:00/13:01, then once
    assert run(settings, work) == [[], [], [], ["m1"]]


DECAYED = ModelSpec(
    audience="Customer",
    rules=(
        RuleSpec(condition='any EmailEvent (type = "open" and at in last 30 days)', points=3,
                 frequency=RuleFrequency.PER_MATCH, cap=4, half_life_days=7),
        RuleSpec(condition='any EmailEvent (type = "click")', points=5, half_life_days=14),
    ),
)  # fmt: skip


def test_half_lives_weigh_each_record_by_its_age(
    empty_graph: neo4j.Driver, seeded: Seeded, settings: Settings
) -> None:
    """PER_MATCH: the heaviest `cap` records, each 0.5 ** (age / 7); ONCE: the most recent."""

    async def work(db: Db) -> None:
        model_id = await published(db, DECAYED)
        assert await score_model(ScoreEnv(db=db, schema=SCHEMA), model_id, NOW) is not None

    run(settings, work)
    expected: dict[str, float] = {}
    for c in seeded.customers:
        mine = [(e["type"], cast(datetime, e["at"])) for e in seeded.events
                if e["customerId"] == c["customerId"]]  # fmt: skip
        opens = sorted(
            (NOW - at).total_seconds() / 86400 for kind, at in mine
            if kind == "open" and NOW - timedelta(days=30) <= at < NOW
        )  # fmt: skip
        clicks = sorted((NOW - at).total_seconds() / 86400 for kind, at in mine if kind == "click")
        score = sum(3 * 0.5 ** (age / 7) for age in opens[:4])
        score += 5 * 0.5 ** (clicks[0] / 14) if clicks else 0.0
        expected[str(c["customerId"])] = score
    found = {k: p["score"] for k, p in profiles(empty_graph).items()}
    assert found.keys() == expected.keys()
    for key, score in expected.items():
        assert found[key] == pytest.approx(score, abs=1e-6), key
    assert len({round(s, 3) for s in expected.values()}) > len(expected) / 2  # ages mattered


def test_a_half_life_needs_dated_records() -> None:
    spec = ModelSpec(audience="Customer", rules=(
        RuleSpec(condition='city = "Oslo"', points=3, half_life_days=7),
        RuleSpec(condition='any EmailEvent (type = "open")', points=3, half_life_days=-1),
        RuleSpec(condition='any EmailEvent (type = "open")', points=3, half_life_days=5,
                 frequency=RuleFrequency.WHEN_NONE),
    ))  # fmt: skip
    compiled, problems = compile_model(spec, SCHEMA, now=NOW)
    assert compiled is None
    assert [(p.code, p.field) for p in problems] == [
        ("RULE_NOT_DATED", ("rules", "0", "condition")),
        ("INVALID_DECAY", ("rules", "1", "halfLifeDays")),
        ("INVALID_DECAY", ("rules", "2", "halfLifeDays")),
    ]
