"""Live membership against the truth: hypothesis draws streams of batches (profiles upserted,
orders placed, changed and deleted, profiles deleted, the clock moving on by hours to weeks);
after every batch, applied incrementally (only the affected profiles) and after the clock's
run, each live segment's stored membership equals a full evaluation of its compiled query at
that instant on the same data (real Neo4j and Redis)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import neo4j
from arq.connections import ArqRedis, RedisSettings, create_pool
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from grammar import compile_segment
from graph_schema import default_schema
from server.live import clock
from server.live.incremental import apply_changes, load_live
from server.live.ingest import ingest
from server.live.queue import CHANGES, LOCK, PENDING, drain
from server.live.records import Change
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.passes import refresh_pass
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.store.db import Db
from tests.api.conftest import Api, create_ok
from tests.api.test_splits import members

SEGMENTS = {
    "oslo": "segment Customer where city = 'Oslo'",
    "big_spenders": "segment Customer where sum Order.total (placedAt in last 30 days) > 300",
    "recent_web": "segment Customer where any Order (channel = 'web' and total >= 100)",
    "oslo_no_orders": "segment Customer where in segment oslo and no Order",
    "loyal_or_big": "segment Customer where satisfaction >= 80 or in segment big_spenders",
    "lapsed": "segment Customer where any Order and no Order (placedAt in last 14 days)",
    "new_and_quiet": "segment Customer where createdOn in last 10 days and count Order < 2",
}
T0 = dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
CUSTOMERS = [f"c{i}" for i in range(12)]
CITIES = ["Oslo", "Rome", None]

# One operation: (kind, a, b, c), realised against the stream's state (see `_record`).
op = st.tuples(
    st.sampled_from(["customer", "order", "order", "change", "delete_order", "delete_customer"]),
    st.integers(0, 1000), st.integers(0, 1000), st.integers(-5, 60),
)  # fmt: skip
batch = st.tuples(st.integers(0, 24 * 20), st.lists(op, min_size=1, max_size=8))


@dataclass
class _Stream:
    now: dt.datetime = T0
    orders: list[str] = field(default_factory=list)
    made: int = 0
    deleted: set[str] = field(default_factory=set)  # customers deleted (and not made again)
    deleting: set[str] = field(default_factory=set)  # by this batch (deletes apply last)


def _records(state: _Stream, kind: str, a: int, b: int, days: int) -> list[dict[str, Any]]:
    """An order for a deleted customer makes the customer again first (a link needs both)."""
    record = _record(state, kind, a, b, days)
    if record.get("type") == "track" and record["profile"]["key"] in state.deleted:
        return [_record(state, "customer", a, b, days), record]
    return [record]


def _record(state: _Stream, kind: str, a: int, b: int, days: int) -> dict[str, Any]:
    customer = CUSTOMERS[a % len(CUSTOMERS)]
    if kind == "customer":
        state.deleted.discard(customer)
    placed = (state.now - dt.timedelta(days=days, minutes=b)).isoformat()
    if kind == "customer":
        values = {
            "city": CITIES[b % 3],
            "satisfaction": b % 101,
            "jobTitle": "cto",
            "createdOn": (state.now - dt.timedelta(days=days)).date().isoformat(),
        }
        chosen = sorted(values)[: 1 + b % 4] if b % 2 else sorted(values)[b % 4 :]
        return {"entity": "Customer", "key": customer,
                "properties": {k: values[k] for k in chosen}}  # fmt: skip
    if kind in ("change", "delete_order") and state.orders:
        key = state.orders[b % len(state.orders)]
        if kind == "delete_order":
            return {"type": "delete", "entity": "Order", "key": key}
        return {"entity": "Order", "key": key, "properties": {"total": float(a % 400),
                "placedAt": placed}}  # fmt: skip
    if kind == "delete_customer":
        state.deleting.add(customer)
        return {"type": "delete", "entity": "Customer", "key": customer}
    state.made += 1
    state.orders.append(f"o{state.made}")
    return {"type": "track", "entity": "Order", "key": f"o{state.made}", "properties": {
        "total": float(b % 400), "channel": ["web", "store"][a % 2], "placedAt": placed},
        "profile": {"entity": "Customer", "key": customer}}  # fmt: skip


def truth(driver: neo4j.Driver, text: str, now: dt.datetime) -> set[str]:
    compiled = compile_segment(text, default_schema(), now=now)
    found, _, _ = driver.execute_query(compiled.cypher, compiled.params)
    return {r["key"] for r in found}


async def _quiet(event: dict[str, Any]) -> None:
    return None


def test_incremental_membership_equals_full_recomputation(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    for name, text in SEGMENTS.items():
        create_ok(api, name=name, definition={"text": text})
    found, _, _ = empty_graph.execute_query("MATCH (s:_Segment) RETURN s.id AS id")
    ids = [r["id"] for r in found]
    events: list[dict[str, Any]] = []

    # Each example costs seconds of real refreshes: no shrinking (the failing batch is printed).
    @hsettings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck),
               phases=[Phase.explicit, Phase.reuse, Phase.generate])  # fmt: skip
    @given(st.lists(batch, min_size=1, max_size=5))
    def streams(batches: list[tuple[int, list[tuple[str, int, int, int]]]]) -> None:
        asyncio.run(_scenario(settings, empty_graph, ids, batches, events))

    streams()
    assert events, "some profile entered or left a segment"
    assert all(set(e) == {"segmentId", "version", "at", "entered", "exited"} for e in events)


async def _scenario(
    settings: Settings, sync: neo4j.Driver, ids: list[str],
    batches: list[tuple[int, list[tuple[str, int, int, int]]]], events: list[dict[str, Any]],
) -> None:  # fmt: skip
    async def announce(event: dict[str, Any]) -> None:
        events.append(event)

    state = _Stream()
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    )
    redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    sync.execute_query("MATCH (n) WHERE n:Customer OR n:Order DETACH DELETE n")
    await _clear(redis)
    try:
        graph = Graph(driver, settings.neo4j_database)
        await ensure_refresh_schema(graph)
        db = Db(driver, settings.neo4j_database)
        env = RefreshEnv(graph=graph, compiler=grammar_compiler(default_schema()),
                         publish=_quiet, batch_size=5000, clock=lambda: state.now)  # fmt: skip
        start = [_record(state, "customer", i, 7 * i + 1, i) for i in range(len(CUSTOMERS))]
        assert (await ingest(db, redis, default_schema(), start)).errors == ()
        await redis.delete(CHANGES)
        await refresh_pass(env, ids, "MANUAL")  # the starting point: a full refresh at T0
        await clock.run_clock(env, default_schema(), redis, state.now, announce)

        async def apply(changes: list[Change]) -> None:
            live = await load_live(env)
            await apply_changes(env, default_schema(), changes, announce, live)
            await clock.note_changes(redis, live, default_schema(), changes)

        for step, (hours, ops) in enumerate(batches):
            state.now += dt.timedelta(hours=hours, minutes=step)
            records = [r for o in ops for r in _records(state, *o)]
            state.deleted |= state.deleting
            state.deleting = set()
            done = await ingest(db, redis, default_schema(), records)
            assert done.errors == (), done.errors
            assert await drain(redis, apply) == done.changed
            await clock.run_clock(env, default_schema(), redis, state.now, announce)
            for name, text in SEGMENTS.items():
                assert members(sync, name) == truth(sync, text, state.now), (step, name, ops)
    finally:
        await _clear(redis)
        await redis.aclose()
        await driver.close()


async def _clear(redis: ArqRedis) -> None:
    keys = (clock.DUE, clock.CHECKED, clock.STALE, clock.LOCK, clock.PENDING)
    await redis.delete(CHANGES, LOCK, PENDING, *keys)
