"""A full refresh of the reference texts' headline segment against DuckDB on the same data.

    python -m bench.refresh.duckdb_compare                      # 1M demo customers
    python -m bench.refresh.duckdb_compare --customers 100000   # smaller
    python -m bench.refresh.duckdb_compare --reuse              # the graph is already imported

"Orders over $500 in the last 90 days and an escalated case in the last 30 days": our engine
compiles it, evaluates it in Neo4j and writes the membership (a new segment: every member
written), as a worker would; DuckDB, the reference a warehouse user would pick, evaluates the
same definition in SQL over the demo CSV files. Both use the same `now`; the member sets must
be identical. Prints seconds of each side and the ratio (load and import times apart), for our
compiler's plan (candidate-driven: from the related records through their indexes) and for the
audience-scan plan it printed before (`candidates=False`), in the same run.

Unless --reuse, wipes the database of NEO4J_URI and imports the demo (generated into
DATA_DIR/demo-N-S once). DuckDB is a benchmark-only dependency (`pip install '.[bench]'`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import neo4j

from grammar import compile_segment
from graph_schema import default_schema
from graph_schema.demo import generate_demo
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings
from server.store.db import Db
from server.store.records import ScheduleKind, SegmentState, SegmentType
from server.store.segments import NewDefinition, NewSegment, create_segment
from server.store.setup import ensure_schema
from tests.conftest import wipe_graph

HEADLINE = (
    "segment Customer\n"
    "where any Order (total > 500 and placedAt in last 90 days)\n"
    "  and any Case (escalated is true and createdOn in last 30 days)\n"
)
# The same definition in SQL. Windows as the language defines them for datetimes:
# [now - N days, now).
SQL = """
SELECT c.customerId FROM customers c
WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customerId = c.customerId AND o.total > 500
              AND o.placedAt >= $now - INTERVAL 90 DAY AND o.placedAt < $now)
  AND EXISTS (SELECT 1 FROM cases k WHERE k.customerId = c.customerId AND k.escalated
              AND k.createdOn >= $now - INTERVAL 30 DAY AND k.createdOn < $now)
"""


def prepare(folder: Path, customers: int, seed: int, reuse: bool) -> None:
    if not (folder / "customers.csv").exists():
        print(f"generating {customers:,} customers into {folder}")
        generate_demo(folder, customers=customers, seed=seed)
    if reuse:
        return
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        wipe_graph(driver)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "server.cli", "import", str(folder)], check=True)
    print(f"import: {time.perf_counter() - started:.0f} s")


@dataclass(frozen=True, slots=True)
class Refreshes:
    first: float  # the first full refresh: the compiled query is planned then
    full: float  # median of the next WARM_REFRESHES (plan cached, as a worker's next run)
    keys: set[str]


WARM_REFRESHES = 3
ROUNDS = 9  # evaluations of each query, alternated so load changes hit every side alike


async def compare(folder: Path, now: datetime) -> None:
    """Both plans' full refreshes, then the evaluations of both plans and DuckDB's query in
    alternating rounds; prints seconds, ratios and whether the member sets agree."""
    con, load_s = duckdb_tables(folder)
    settings = get_settings()
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )  # fmt: skip
    db, graph = Db(driver, settings.neo4j_database), Graph(driver, settings.neo4j_database)
    await ensure_schema(db)
    await ensure_refresh_schema(graph)
    plans = {"audience scan (before)": False, "candidate-driven": True}
    refreshes = {plan: await _refreshes(db, driver, graph, now, c) for plan, c in plans.items()}
    queries = {
        plan: compile_segment(HEADLINE, default_schema(), now=now, candidates=c)
        for plan, c in plans.items()
    }
    times: dict[str, list[float]] = {plan: [] for plan in (*plans, "duckdb")}
    duck_keys: set[str] = set()
    for _ in range(ROUNDS):
        for plan, compiled in queries.items():
            started = time.perf_counter()
            await db.read(compiled.cypher, **compiled.params)  # as the refresh runs it
            times[plan].append(time.perf_counter() - started)
        started = time.perf_counter()
        duck_keys = {r[0] for r in con.execute(SQL, {"now": now}).fetchall()}
        times["duckdb"].append(time.perf_counter() - started)
    await driver.close()
    duck_s = statistics.median(times["duckdb"])
    print(f"now = {now.isoformat()}, load average {os.getloadavg()[0]:.1f}")
    print(f"duckdb query (same definition, tables loaded in {load_s:.1f} s), median of "
          f"{ROUNDS}: {duck_s:.3f} s")  # fmt: skip
    for plan, side in refreshes.items():
        evaluate = statistics.median(times[plan])
        print(f"ours, {plan}:")
        print(
            f"  full refresh (evaluate + write {len(side.keys):,} members), first: "
            f"{side.first:.2f} s, then median of {WARM_REFRESHES}: {side.full:.2f} s"
        )
        print(
            f"  evaluation alone (the compiled query, warm), median of {ROUNDS}: {evaluate:.3f} s"
        )
        print(
            f"  ratio ours / duckdb: full refresh x{side.full / duck_s:.1f} "
            f"(first x{side.first / duck_s:.1f}), evaluation x{evaluate / duck_s:.1f}"
        )
    scan, cand = (refreshes[plan].keys for plan in plans)
    same = cand == duck_keys == scan
    print(
        f"identical member sets: {same} (only ours {len(cand - duck_keys)}, "
        f"only duckdb {len(duck_keys - cand)}, scan plan differs by {len(scan ^ cand)})"
    )
    if not same:
        raise SystemExit(1)


async def _refreshes(
    db: Db, driver: neo4j.AsyncDriver, graph: Graph, now: datetime, candidates: bool
) -> Refreshes:
    """Full refreshes (evaluate + write every member, each into a new segment), with or without
    candidate-driven plans."""
    compiler = grammar_compiler(default_schema(), candidates=candidates)
    env = RefreshEnv(graph=graph, compiler=compiler,
                     publish=_quiet, clock=lambda: now)  # fmt: skip
    fulls: list[float] = []
    keys: set[str] = set()
    for _ in range(1 + WARM_REFRESHES):
        seconds, keys = await _refresh_new_segment(db, driver, env, now)
        fulls.append(seconds)
    return Refreshes(fulls[0], statistics.median(fulls[1:]), keys)


async def _refresh_new_segment(
    db: Db, driver: neo4j.AsyncDriver, env: RefreshEnv, now: datetime
) -> tuple[float, set[str]]:
    """Seconds of one full refresh of a new segment of the headline, and its members (the
    segment is deleted afterwards)."""
    segment_id = str(uuid.uuid4())
    new = NewSegment(
        id=segment_id, name=f"bench_duckdb_{segment_id[:8]}", display_name="DuckDB comparison",
        description="", type=SegmentType.DYNAMIC, audience="Customer", state=SegmentState.ACTIVE,
        tags=(), timezone="UTC", schedule_kind=ScheduleKind.MANUAL, schedule_cron=None,
    )  # fmt: skip
    definition = NewDefinition(text=HEADLINE, json=None, valid=True, diagnostics=(), references=())
    await create_segment(db, new, definition, "bench", now)
    started = time.perf_counter()
    outcome = await refresh_segment(env, segment_id, "MANUAL")
    seconds = time.perf_counter() - started
    if outcome.member_count is None:
        raise SystemExit(f"refresh failed: {outcome}")
    found = await db.read(
        "MATCH (s:_Segment {id: $id})-[m:_MEMBER]->() WHERE m.since <= s.activeVersion "
        "AND (m.until IS NULL OR m.until > s.activeVersion) RETURN collect(m.key) AS keys",
        id=segment_id,
    )
    await driver.execute_query(
        "MATCH (s:_Segment {id: $id}) OPTIONAL MATCH (s)-[:_HAS_RUN|_HAS_DEFINITION]->(x) "
        "DETACH DELETE x, s", id=segment_id,
    )  # fmt: skip
    return seconds, set(found[0]["keys"])


async def _quiet(event: dict[str, object]) -> None:
    return None


def duckdb_tables(folder: Path) -> tuple[Any, float]:
    """A DuckDB connection with the three tables loaded from the CSVs, and the load seconds."""
    import duckdb  # a benchmark-only dependency

    con = duckdb.connect()
    started = time.perf_counter()
    for table, csv in (("customers", "customers.csv"), ("orders", "orders.csv"),
                       ("cases", "cases.csv")):  # fmt: skip
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv_auto(?)", [str(folder / csv)])
    return con, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="the demo is already imported")
    args = parser.parse_args()
    folder = get_settings().data_dir / f"demo-{args.customers}-{args.seed}"
    prepare(folder, args.customers, args.seed, args.reuse)
    now = datetime.now(UTC).replace(microsecond=0)  # both sides evaluate at this instant
    asyncio.run(compare(folder, now))


if __name__ == "__main__":
    main()
