"""Live membership against the truth: after every random batch of ingested changes, each
live segment's stored membership (updated incrementally, only the affected profiles) equals
a full evaluation of its compiled query on the same data (real Neo4j and Redis)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import neo4j
from arq.connections import RedisSettings, create_pool

from grammar import compile_segment
from graph_schema import default_schema
from server.live.incremental import apply_changes
from server.live.ingest import ingest
from server.live.queue import CHANGES, drain
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
}
CITIES = ["Oslo", "Rome", None]


def customer(rng: random.Random, key: str) -> dict[str, Any]:
    """Some of city, satisfaction and an attribute no segment reads (which must move nobody)."""
    values = {"city": rng.choice(CITIES), "satisfaction": rng.randrange(0, 101),
              "jobTitle": rng.choice(["cto", "cfo"])}  # fmt: skip
    chosen = rng.sample(sorted(values), rng.randrange(1, 4))
    return {"entity": "Customer", "key": key, "properties": {k: values[k] for k in chosen}}


def order(rng: random.Random, key: str, customers: list[str]) -> dict[str, Any]:
    days = rng.randrange(0, 60)
    return {"type": "track", "entity": "Order", "key": key, "properties": {
        "total": float(rng.randrange(0, 400)), "channel": rng.choice(["web", "store"]),
        "placedAt": f"2026-11-{25 - days % 25:02d}T10:00:00Z"},
        "profile": {"entity": "Customer", "key": rng.choice(customers)}}  # fmt: skip


def truth(driver: neo4j.Driver, text: str) -> set[str]:
    compiled = compile_segment(text, default_schema())
    found, _, _ = driver.execute_query(compiled.cypher, compiled.params)
    return {r["key"] for r in found}


async def _quiet(event: dict[str, Any]) -> None:
    return None


def test_incremental_membership_equals_full_recomputation(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    rng = random.Random(11)
    keys = [f"c{i}" for i in range(60)]
    for name, text in SEGMENTS.items():
        create_ok(api, name=name, definition={"text": text})
    events: list[dict[str, Any]] = []

    async def announce(event: dict[str, Any]) -> None:
        events.append(event)

    async def scenario() -> None:
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        )
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        await redis.delete(CHANGES)
        try:
            graph = Graph(driver, settings.neo4j_database)
            await ensure_refresh_schema(graph)
            db = Db(driver, settings.neo4j_database)
            env = RefreshEnv(graph=graph, compiler=grammar_compiler(default_schema()),
                             publish=_quiet, batch_size=5000)  # fmt: skip
            first = await ingest(db, redis, default_schema(),
                                 [customer(rng, k) for k in keys])  # fmt: skip
            assert first.errors == ()
            await redis.delete(CHANGES)
            ids = [r["id"] for r in await graph.read("MATCH (s:_Segment) RETURN s.id AS id")]
            await refresh_pass(env, ids, "MANUAL")  # the starting point: a full refresh
            orders = 0
            for batch in range(8):
                records: list[dict[str, Any]] = []
                for _ in range(rng.randrange(1, 12)):
                    draw = rng.random()
                    if draw < 0.4:
                        records.append(customer(rng, rng.choice([*keys, f"n{batch}"])))
                    elif draw < 0.6 and orders:  # an existing order changes: no link given
                        changed = order(rng, f"o{rng.randrange(1, orders + 1)}", keys)
                        records.append({"entity": "Order", "key": changed["key"],
                                        "properties": changed["properties"]})  # fmt: skip
                    else:
                        orders += 1
                        records.append(order(rng, f"o{orders}", keys))
                done = await ingest(db, redis, default_schema(), records)
                assert done.errors == (), done.errors

                async def apply(changes: list[Change]) -> None:
                    await apply_changes(env, default_schema(), changes, announce)

                assert await drain(redis, apply) == done.changed
                for name, text in SEGMENTS.items():
                    assert members(empty_graph, name) == truth(empty_graph, text), (batch, name)
        finally:
            await redis.delete(CHANGES)
            await redis.aclose()
            await driver.close()

    asyncio.run(scenario())
    assert events, "some profile entered or left a segment"
    assert all(set(e) == {"segmentId", "version", "at", "entered", "exited"} for e in events)
