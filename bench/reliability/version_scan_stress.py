"""A bounded stress of whole-version scans against refreshes, to find what makes a read-committed
scan return a member twice and miss another (docs/reliability.md, refresh atomicity).

    python -m bench.reliability.version_scan_stress --gc now --seconds 300
    python -m bench.reliability.version_scan_stress --gc off --seconds 300
    python -m bench.reliability.version_scan_stress --gc deferred --grace 30 --seconds 300

Wipes the database of NEO4J_URI (under the graph lock the tests take). One segment's
definition alternates between two with disjoint memberships (60 % / 40 % of the customers, the
atomicity test's), refreshed in process by the real engine one run after another (`--warmup`
runs first, so that the index holds the kept versions' rows); `--readers`
tasks meanwhile read the whole active version in one query -- the API member page's own query,
WITHOUT the check of server.store.version_scan -- and compare it with both expected versions.
Garbage collection after each switch: `now` (today's engine: every version but the last
`--keep` collected at once), `off` (nothing collected), `deferred` (only versions replaced more than
`--grace` seconds ago). Prints one line per refresh and a summary: reads, wrong reads (keys
read twice / missed / foreign), memberships collected.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import neo4j

from graph_schema import default_schema
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.store import Db
from server.store.members import _PAGE_QUERIES
from tests.conftest import graph_lock, wipe_graph
from tests.reliability.customers import (
    DEFINITION_A,
    DEFINITION_B,
    Memberships,
    add_customers,
    make_segment,
    set_definition,
)

SEGMENT = "stress"
UNCOLLECTED = 1_000_000  # keep_versions that no run count reaches: nothing is collected


@dataclass
class Tally:
    reads: int = 0
    wrong: list[str] = field(default_factory=list)
    collected: int = 0


def judge(expected: Memberships, keys: list[Any]) -> str | None:
    """None when `keys` are exactly one version's, else what is odd about them."""
    if keys in (list(expected.a), list(expected.b)):
        return None
    seen = set(keys)
    closest = min((set(expected.a), set(expected.b)), key=lambda k: len(k ^ seen))
    twice = sum(1 for n in Counter(keys).values() if n > 1)
    return (f"{len(keys)} keys: {twice} twice, {len(closest - seen)} missing, "
            f"{len(seen - closest)} foreign, ordered={keys == sorted(keys)}")  # fmt: skip


async def reader(
    db: Db, expected: Memberships, stop: asyncio.Event, tally: Tally, profiles: bool
) -> None:
    limit = len(expected.a) + len(expected.b) + 1
    # The API's whole member page, keys only or with every property of the profile as the
    # atomicity test reads it (a longer query).
    query = _PAGE_QUERIES[False, "all" if profiles else "none"]
    while not stop.is_set():
        found = await db.read(query, id=SEGMENT, after=None, limit=limit, columns=[])
        keys = [r["key"] for r in found[0]["page"]] if found else []
        tally.reads += 1
        if (problem := judge(expected, keys)) is not None:
            tally.wrong.append(f"version {found[0]['v']}: {problem}")
            print(f"  WRONG read {tally.reads}: {tally.wrong[-1]}", flush=True)


async def count_rows(graph: Graph) -> int:
    found = await graph.read(
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id RETURN count(m) AS n", id=SEGMENT
    )
    return int(found[0]["n"])


async def stress(args: argparse.Namespace, graph: Graph, db: Db) -> Tally:
    expected = await add_customers(graph, args.customers)
    await make_segment(graph, SEGMENT, DEFINITION_A)

    async def publish(event: dict[str, Any]) -> None:
        return None

    env = RefreshEnv(
        graph=graph, compiler=grammar_compiler(default_schema()), publish=publish,
        batch_size=2000, keep_versions=UNCOLLECTED if args.gc == "off" else args.keep,
        gc_grace_s=args.grace if args.gc == "deferred" else 0.0,
    )  # fmt: skip
    run = 0
    for run in range(args.warmup + 1):  # the index holds the kept versions before reads start
        await set_definition(graph, SEGMENT, DEFINITION_B if run % 2 else DEFINITION_A)
        await refresh_segment(env, SEGMENT, "MANUAL")
    print(f"warm: {run + 1} refreshes, {await count_rows(graph):,} rows", flush=True)
    tally, stop = Tally(), asyncio.Event()
    readers = [asyncio.create_task(reader(db, expected, stop, tally, args.profiles))
               for _ in range(args.readers)]  # fmt: skip
    deadline = time.monotonic() + args.seconds
    try:
        while time.monotonic() < deadline:
            run += 1
            await set_definition(graph, SEGMENT, DEFINITION_B if run % 2 else DEFINITION_A)
            before = await count_rows(graph)
            started = time.monotonic()
            outcome = await refresh_segment(env, SEGMENT, "MANUAL")
            after = await count_rows(graph)
            entered = outcome.entered or 0
            tally.collected += max(0, before + entered - after)
            print(f"refresh {run}: {outcome.status.value} in {time.monotonic() - started:.1f} s, "
                  f"{after:,} rows, {tally.reads} reads, {len(tally.wrong)} wrong",
                  flush=True)  # fmt: skip
    finally:
        stop.set()
        await asyncio.gather(*readers, return_exceptions=True)
    return tally


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gc", choices=("now", "off", "deferred"), default="now")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds (--gc deferred)")
    parser.add_argument("--seconds", type=float, default=300.0, help="stop refreshing after")
    parser.add_argument("--customers", type=int, default=60_000)
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--keep", type=int, default=10, help="versions kept (--gc now, deferred)")
    parser.add_argument("--warmup", type=int, default=10, help="refreshes before reads start")
    parser.add_argument("--profiles", action="store_true", help="read profiles with the keys")
    args = parser.parse_args()
    settings = Settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    port = settings.neo4j_uri.rsplit(":", 1)[-1]
    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth) as sync, graph_lock(port):
        wipe_graph(sync)
        driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth,
                                                 notifications_min_severity="OFF")  # fmt: skip
        try:
            graph = Graph(driver, settings.neo4j_database)
            await ensure_refresh_schema(graph)
            tally = await stress(args, graph, Db(driver, settings.neo4j_database))
        finally:
            await driver.close()
    mode = f"deferred {args.grace:g} s" if args.gc == "deferred" else args.gc
    what = "with profiles" if args.profiles else "keys only"
    print(
        f"gc {mode} (keep {args.keep}, {args.customers:,} customers, {args.readers} readers, "
        f"{what}): {tally.reads} whole reads, {len(tally.wrong)} wrong, "
        f"{tally.collected:,} memberships collected, load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
