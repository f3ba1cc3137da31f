"""Live membership latency: from an accepted change to its visible effect on a segment.

    python -m bench.live.run            # 200k profiles, 20 live segments
    python -m bench.live.run --short    # 10k profiles, 10 live segments (CI)
    python -m bench.live.run --profiles 100000 --segments 100 --samples 40

Its own data model (`bench/live/schema.yaml`, labels `Live*`, segments `live_*`), removed at the
end; a real worker process (`segments worker`) applies the changes. Measured:
- latency: one change at a time (a customer's score crossing a segment's threshold, or an
  order's total crossing another's), from `ingest` returning to the member being visible;
- throughput: changes sent as fast as accepted for a few seconds, then the time until all are
  visible (sustained changes per second);
- the cost of one live change against a full refresh of the same segment, as a ratio;
- each of these with the worker applying a change one segment after the other (the path before
  rounds, `LIVE_ONE_BY_ONE`), a dependency level per round with no plan warm-up (`cold`,
  `LIVE_WARM_PLANS=false`) and with it (`together`), all three by default, on the same data
  and the same changes, each mode starting with Neo4j's query cache cleared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
from arq.connections import ArqRedis, RedisSettings, create_pool

from graph_schema import GraphSchema, load_schema
from server.live.ingest import ingest
from server.live.queue import CHANGES, LOCK
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.passes import refresh_pass
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings
from server.store.db import Db
from server.store.members import is_member

SCHEMA = Path(__file__).with_name("schema.yaml")
HIGH = "segment LiveCustomer where score >= {t}"
BUYERS = "segment LiveCustomer where any LiveOrder (total > {t})"


async def _quiet(event: dict[str, Any]) -> None:
    return None


def seed(driver: neo4j.Driver, profiles: int) -> None:
    for stmt in (
        "CREATE CONSTRAINT live_customer IF NOT EXISTS "
        "FOR (c:LiveCustomer) REQUIRE c.customerId IS UNIQUE",
        "CREATE CONSTRAINT live_order IF NOT EXISTS FOR (o:LiveOrder) REQUIRE o.orderId IS UNIQUE",
        "CREATE INDEX live_customer_score IF NOT EXISTS FOR (c:LiveCustomer) ON (c.score)",
        "CREATE INDEX live_order_total IF NOT EXISTS FOR (o:LiveOrder) ON (o.total)",
    ):  # fmt: skip
        driver.execute_query(stmt)
    for start in range(0, profiles, 20_000):
        driver.execute_query(
            "UNWIND range($s, $e - 1) AS i "
            "CREATE (c:LiveCustomer {customerId: 'l' + i, score: i % 100, city: 'x'}) "
            "CREATE (c)-[:LIVE_PLACED]->(:LiveOrder {orderId: 'lo' + i, total: toFloat(i % 1000)})",
            s=start, e=min(start + 20_000, profiles),
        )  # fmt: skip
    driver.execute_query("CALL db.resampleOutdatedIndexes()")  # as the importer does


def cleanup(driver: neo4j.Driver) -> None:
    with driver.session() as s:
        # Memberships first, in batches: 100 segments of 100k profiles hold millions of them,
        # too many for one transaction on a small heap.
        s.run(
            "MATCH (s:_Segment) WHERE s.name STARTS WITH 'live_' MATCH (s)-[m:_MEMBER]->() "
            "CALL (m) { DELETE m } IN TRANSACTIONS OF 20000 ROWS"
        ).consume()
        for label in ("LiveCustomer", "LiveOrder"):
            s.run(f"MATCH (n:{label}) CALL (n) {{ DETACH DELETE n }} "
                  "IN TRANSACTIONS OF 10000 ROWS").consume()  # fmt: skip
        s.run(
            "MATCH (s:_Segment) WHERE s.name STARTS WITH 'live_' "
            "OPTIONAL MATCH (s)-[:_HAS_RUN|_HAS_DEFINITION]->(x) DETACH DELETE s, x"
        ).consume()


def create_segments(driver: neo4j.Driver, count: int) -> dict[str, str]:
    """Segments written as the API stores them (valid, active, dynamic)."""
    made = {}
    for i in range(count):
        sid = f"live_{i}"
        text = (HIGH if i % 2 == 0 else BUYERS).format(t=50 + i if i % 2 == 0 else 500 + i)
        driver.execute_query(
            "CREATE (s:_Segment {id: $id, name: $id, displayName: $id, type: 'DYNAMIC', "
            " state: 'ACTIVE', valid: true, status: 'NOT_STARTED', audience: 'LiveCustomer', "
            " timezone: 'UTC', scheduleKind: 'MANUAL', definitionVersion: 1, activeVersion: 0, "
            " versionSeq: 0, tags: [], lostInputs: [], createdAt: datetime(), "
            " updatedAt: datetime(), createdBy: 'bench'}) "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, version: 1, "
            " text: $text, valid: true, references: []})",
            id=sid, text=text,
        )  # fmt: skip
        made[sid] = text
    return made


def start_worker(mode: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCHEMA_FILE": str(SCHEMA),
           "LIVE_ONE_BY_ONE": str(mode == ONE_BY_ONE).lower(),
           "LIVE_WARM_PLANS": str(mode != COLD).lower()}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def load() -> str:
    return "load average {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


async def wait_member(db: Db, sid: str, key: str, want: bool, timeout: float = 30) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if await is_member(db, sid, key) is want:
            return time.perf_counter() - start
        await asyncio.sleep(0.005)
    raise SystemExit(f"{key} never became {'a member' if want else 'no member'} of {sid}")


ALIVE = "segments:worker-alive:"  # server.refresh.liveness: a started worker's key


async def wait_worker(redis: ArqRedis, before: set[bytes], timeout: float = 120) -> None:
    """Until a worker not in `before` says it is alive (its startup done)."""
    start = time.perf_counter()
    while not set(await redis.keys(ALIVE + "*")) - before:
        if time.perf_counter() - start > timeout:
            raise SystemExit("the worker did not start in time")
        await asyncio.sleep(0.05)


async def wait_drained(redis: ArqRedis, timeout: float) -> None:
    """Until no change waits in the queue and no applier holds the lock."""
    start = time.perf_counter()
    while await redis.llen(CHANGES) or await redis.exists(LOCK):  # type: ignore[misc]
        if time.perf_counter() - start > timeout:
            raise SystemExit("the queued changes were not applied in time")
        await asyncio.sleep(0.01)


async def main_async(profiles: int, segments: int, samples: int, modes: list[str]) -> None:
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    sync = neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth)
    cleanup(sync)
    print(f"setup: {profiles:,} profiles with an order each, {segments} live segments "
          f"({load()}, {os.cpu_count()} cores)")  # fmt: skip
    seed(sync, profiles)
    made = create_segments(sync, segments)
    driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth,
                                             notifications_min_severity="OFF")  # fmt: skip
    graph, db = Graph(driver, settings.neo4j_database), Db(driver, settings.neo4j_database)
    await ensure_refresh_schema(graph)
    schema = load_schema(SCHEMA)
    env = RefreshEnv(graph=graph, compiler=grammar_compiler(schema), publish=_quiet,
                     batch_size=20_000)  # fmt: skip
    started = time.perf_counter()
    await refresh_pass(env, list(made), "MANUAL")
    full_all = time.perf_counter() - started
    started = time.perf_counter()
    await refresh_segment(env, "live_0", "MANUAL")
    full_one = time.perf_counter() - started
    redis: ArqRedis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    print(f"full refresh of all {segments}: {full_all:.1f} s, of one: {full_one:.2f} s ({load()})")
    figures: dict[str, Figures] = {}
    try:
        for mode in modes:
            # Each mode starts with no plan cached, as a fresh Neo4j would (the modes send the
            # same query texts: the later ones would find the plans of the earlier ones).
            await driver.execute_query("CALL db.clearQueryCaches()")
            figures[mode] = await measure(db, redis, schema, profiles, samples, mode)
            f = figures[mode]
            print(f"{mode:>10}: latency p50 {f.p50 * 1000:,.0f} ms, p95 {f.p95 * 1000:,.0f} ms, "
                  f"slowest {f.slowest * 1000:,.0f} ms, first two "
                  f"{', '.join(f'{t * 1000:,.0f}' for t in f.first)} ms "
                  f"({samples} changes); {f.sent:,} changes sent in {f.sending:.1f} s, all "
                  f"visible after {f.drained:.1f} s: {f.sent / f.drained:,.0f} changes/s "
                  f"({f.load})")  # fmt: skip
    finally:
        await redis.aclose()
        await driver.close()
        cleanup(sync)
        sync.close()
    touched = (segments + 1) // 2  # a score or a total: half the segments read each
    print(f"\neach change concerns {touched} of the {segments} live segments; targets: p95 <= 1 s, "
          ">= 200 changes/s")  # fmt: skip
    for mode, f in figures.items():
        print(f"{mode:>10}: one live change (p50 {f.p50:.2f} s) against full refreshes of the "
              f"{touched} segments it concerns ({touched} x {full_one:.2f} s): "
              f"x{touched * full_one / f.p50:.1f} cheaper; against a full refresh of all "
              f"{segments} ({full_all:.1f} s): x{full_all / f.p50:.0f}")  # fmt: skip
    if COLD in figures and TOGETHER in figures:
        cold, warm = figures[COLD], figures[TOGETHER]
        print(f"plans warmed at start against cold: p50 x{cold.p50 / warm.p50:.1f}, "
              f"p95 x{cold.p95 / warm.p95:.1f} faster, slowest change "
              f"{cold.slowest * 1000:,.0f} ms -> {warm.slowest * 1000:,.0f} ms")  # fmt: skip
    if ONE_BY_ONE in figures and TOGETHER in figures:
        one, both = figures[ONE_BY_ONE], figures[TOGETHER]
        print(f"together against one by one: p50 x{one.p50 / both.p50:.1f}, "
              f"p95 x{one.p95 / both.p95:.1f} faster; throughput "
              f"x{(both.sent / both.drained) / (one.sent / one.drained):.1f}")  # fmt: skip


ONE_BY_ONE, COLD, TOGETHER = "one-by-one", "cold", "together"


@dataclass(frozen=True, slots=True)
class Figures:
    p50: float
    p95: float
    slowest: float
    first: tuple[float, ...]  # the first changes of each kind (a score, a total), in order
    sent: int
    sending: float
    drained: float
    load: str


async def measure(
    db: Db, redis: ArqRedis, schema: GraphSchema, profiles: int, samples: int, mode: str
) -> Figures:  # fmt: skip
    """Latency of lone changes, then sustained throughput, with a worker applying changes one
    segment after the other or a dependency level per round."""
    before = set(await redis.keys(ALIVE + "*"))
    worker = start_worker(mode)
    rng = random.Random(5)  # the same changes for each mode
    try:
        # The worker's startup (imports take seconds on a loaded machine, then drivers and
        # indexes), then what it starts in the background (plan warm-up): the same wait in
        # every mode, so the first change measures a started worker, not the start.
        await wait_worker(redis, before)
        await asyncio.sleep(2)
        latencies = []
        for n in range(samples):
            i = rng.randrange(profiles)
            key = f"l{i}"
            if n % 2 == 0:  # a profile attribute: live_0 is score >= 50
                joins = not await is_member(db, "live_0", key)
                record = {"entity": "LiveCustomer", "key": key,
                          "properties": {"score": 99 if joins else 1}}  # fmt: skip
                sid = "live_0"
            else:  # one hop away: live_1 is any LiveOrder (total > 501)
                joins = not await is_member(db, "live_1", key)
                record = {"entity": "LiveOrder", "key": f"lo{i}",
                          "properties": {"total": 900.0 if joins else 1.0}}  # fmt: skip
                sid = "live_1"
            await ingest(db, redis, schema, [record])
            latencies.append(await wait_member(db, sid, key, joins))
        first = tuple(latencies[:2])
        latencies.sort()
        p50, p95 = statistics.median(latencies), latencies[int(0.95 * len(latencies)) - 1]
        sent, start = 0, time.perf_counter()
        last: tuple[str, bool] = ("", False)
        while time.perf_counter() - start < 5:
            batch = []
            for _ in range(20):
                i = rng.randrange(profiles)
                score = rng.randrange(100)
                batch.append({"entity": "LiveCustomer", "key": f"l{i}",
                              "properties": {"score": score}})  # fmt: skip
                last = (f"l{i}", score >= 50)
            await ingest(db, redis, schema, batch)
            sent += len(batch)
        sending = time.perf_counter() - start
        await wait_drained(redis, timeout=600)  # every change applied, not only the last one
        await wait_member(db, "live_0", last[0], last[1], timeout=300)
        drained = time.perf_counter() - start
        return Figures(p50, p95, latencies[-1], first, sent, sending, drained, load())
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small sizes, for CI")
    parser.add_argument("--profiles", type=int, help="profiles (default 200k; short: 10k)")
    parser.add_argument("--segments", type=int, help="live segments (default 20; short: 10)")
    parser.add_argument("--samples", type=int, help="changes timed one by one (default 100)")
    parser.add_argument("--mode", choices=[ONE_BY_ONE, COLD, TOGETHER, "both", "all"],
                        default="all",
                        help="how the worker applies a change: each segment by itself, a "
                        "dependency level per round without (cold) or with its plans warmed "
                        "at start, one by one and together, or all three (default)")  # fmt: skip
    args = parser.parse_args()
    profiles, segments, samples = (10_000, 10, 20) if args.short else (200_000, 20, 100)
    modes = {"both": [ONE_BY_ONE, TOGETHER], "all": [ONE_BY_ONE, COLD, TOGETHER]}.get(
        args.mode, [args.mode]
    )
    asyncio.run(main_async(args.profiles or profiles, args.segments or segments,
                           args.samples or samples, modes))  # fmt: skip


if __name__ == "__main__":
    main()
