"""Time windows move with a controllable clock (real Neo4j and Redis): each segment's next
instant is exactly when a profile's truth changes (a full evaluation a microsecond before
still agrees with the old membership), nothing moves before it, and at it the incremental
membership equals a full recomputation at that instant, for every segment."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import neo4j
from arq.connections import ArqRedis, RedisSettings, create_pool

from grammar import compile_segment
from graph_schema import default_schema
from server.live import clock
from server.live.clock import CHECKED, DUE, LOCK, PENDING, STALE, run_clock
from server.live.ingest import ingest
from server.live.queue import CHANGES
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.passes import refresh_pass
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.store.db import Db
from tests.api.conftest import Api, create_ok
from tests.api.test_splits import members

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)
SEGMENTS = {
    "recent": "segment Customer where any Order (placedAt in last 30 days)",
    "big_recent": "segment Customer where sum Order.total (placedAt in last 30 days) > 300",
    "birthday": "segment Customer timezone 'Europe/Oslo' where birthDate anniversary in next 7 "
    "days",
    "renewal": "segment Account where contractRenewalDate in next 60 days",
    "dormant": "segment Customer where createdOn < 30 days ago and no Order (placedAt in last "
    "30 days)",
    "recent_oslo": "segment Customer where in segment recent and city = 'Oslo'",
}


def at(days: float, hours: float = 0) -> str:
    return (T0 + dt.timedelta(days=days, hours=hours)).isoformat()


RECORDS: list[dict[str, Any]] = [
    {"entity": "Customer", "key": "c1", "properties": {
        "city": "Oslo", "birthDate": "1990-12-10", "createdOn": "2026-10-20"}},
    {"entity": "Customer", "key": "c2", "properties": {
        "city": "Oslo", "birthDate": "1985-12-07", "createdOn": "2026-11-25"}},
    {"entity": "Customer", "key": "c3", "properties": {
        "city": "Rome", "birthDate": "2000-02-29", "createdOn": "2026-11-05"}},
    {"type": "track", "entity": "Order", "key": "o1", "properties": {
        "total": 200.0, "placedAt": at(-29, -3)}, "profile": {"entity": "Customer", "key": "c1"}},
    {"type": "track", "entity": "Order", "key": "o2", "properties": {
        "total": 150.0, "placedAt": at(-27)}, "profile": {"entity": "Customer", "key": "c1"}},
    {"type": "track", "entity": "Order", "key": "o3", "properties": {
        "total": 400.0, "placedAt": at(-2, 5)}, "profile": {"entity": "Customer", "key": "c2"}},
    {"type": "track", "entity": "Order", "key": "o4", "properties": {  # placed in the future
        "total": 10.0, "placedAt": at(1, 1)}, "profile": {"entity": "Customer", "key": "c3"}},
    {"entity": "Account", "key": "a1", "properties": {"contractRenewalDate": "2027-02-01"}},
    {"entity": "Account", "key": "a2", "properties": {"contractRenewalDate": "2027-01-15"}},
]  # fmt: skip


def truth(driver: neo4j.Driver, text: str, now: dt.datetime) -> set[str]:
    compiled = compile_segment(text, default_schema(), now=now)
    found, _, _ = driver.execute_query(compiled.cypher, compiled.params)
    return {r["key"] for r in found}


def all_agree(driver: neo4j.Driver, now: dt.datetime) -> None:
    for name, text in SEGMENTS.items():
        assert members(driver, name) == truth(driver, text, now), (name, now)


async def _quiet(event: dict[str, Any]) -> None:
    return None


def test_windows_move_exactly_when_a_profile_changes(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    for name, text in SEGMENTS.items():
        audience = text.split()[1]
        create_ok(api, name=name, audience=audience, definition={"text": text})
    found, _, _ = empty_graph.execute_query("MATCH (s:_Segment) RETURN s.name AS n, s.id AS id")
    ids = {r["n"]: r["id"] for r in found}  # engine ids (the API's are global ids)
    events: list[dict[str, Any]] = []

    async def announce(event: dict[str, Any]) -> None:
        events.append(event)

    async def scenario() -> list[dt.datetime]:
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        )
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        await _clear(redis)
        instants: list[dt.datetime] = []
        try:
            graph = Graph(driver, settings.neo4j_database)
            await ensure_refresh_schema(graph)
            env = RefreshEnv(graph=graph, compiler=grammar_compiler(default_schema()),
                             publish=_quiet, clock=lambda: T0)  # fmt: skip
            done = await ingest(Db(driver, settings.neo4j_database), redis, default_schema(),
                                RECORDS)  # fmt: skip
            assert done.errors == ()
            await redis.delete(CHANGES)
            done_pass = await refresh_pass(env, list(ids.values()), "MANUAL")  # all at T0
            assert {o.status.value for o in done_pass} == {"SUCCESSFUL"}, done_pass
            all_agree(empty_graph, T0)
            first = await run_clock(env, default_schema(), redis, T0, announce)
            names = {v: k for k, v in ids.items()}
            timed = sorted(set(SEGMENTS) - {"recent_oslo"})  # it moves with its input
            assert sorted(names[i] for i in first.checked) == timed
            assert first.outcomes == ()  # nothing moved yet
            # o1 (placed T0 - 29 days - 3 hours) leaves the 30-day window one microsecond
            # after it is 30 days old: the first instant of any segment.
            expiry = dt.datetime.fromisoformat(at(-29, -3)) + dt.timedelta(days=30) + US
            assert await _due(redis, ids["recent"]) == expiry
            for _ in range(8):
                due = first.next_due
                assert due is not None
                before = await run_clock(env, default_schema(), redis, due - US, announce)
                assert before.checked == ()  # not before
                assert before.outcomes == ()
                all_agree(empty_graph, due - US)
                moved = await run_clock(env, default_schema(), redis, due, announce)
                assert moved.checked, due
                all_agree(empty_graph, due)
                instants.append(due)
                first = moved
        finally:
            await _clear(redis)
            await redis.aclose()
            await driver.close()
        return instants

    instants = asyncio.run(scenario())
    assert instants == sorted(set(instants))
    changed = {(e["segmentId"], k, "in") for e in events for k in e["entered"]} | {
        (e["segmentId"], k, "out") for e in events for k in e["exited"]
    }
    # The expected moves, each at its own instant (asserted against full evaluations above).
    assert (ids["big_recent"], "c1", "out") in changed  # o1 expired: 150 left
    assert (ids["recent"], "c3", "in") in changed  # o4's time came
    assert (ids["birthday"], "c1", "in") in changed  # Dec 10 came within 7 days (Oslo time)
    assert (ids["renewal"], "a1", "in") in changed  # Feb 1 came within 60 days
    assert all(e["version"] > 1 for e in events)


async def _due(redis: ArqRedis, segment_id: str) -> dt.datetime:
    score = await redis.zscore(DUE, segment_id)
    assert score is not None
    return clock.instant(score)


async def _clear(redis: ArqRedis) -> None:
    await redis.delete(DUE, CHECKED, STALE, LOCK, PENDING, CHANGES)
    clock._TIMED.clear()
