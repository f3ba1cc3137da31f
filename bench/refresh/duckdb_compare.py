"""A full refresh of the reference texts' headline segment against DuckDB on the same data.

    python -m bench.refresh.duckdb_compare                      # 1M demo customers
    python -m bench.refresh.duckdb_compare --customers 100000   # smaller
    python -m bench.refresh.duckdb_compare --reuse              # the graph is already imported

"Orders over $500 in the last 90 days and an escalated case in the last 30 days": our engine
compiles it, evaluates it in Neo4j and writes the membership (a new segment: every member
written), as a worker would; DuckDB, the reference a warehouse user would pick, evaluates the
same definition in SQL over the demo CSV files. Both use the same `now`; the member sets must
be identical. Prints seconds of each side and the ratio (load and import times apart).

Unless --reuse, wipes the database of NEO4J_URI and imports the demo (generated into
DATA_DIR/demo-N-S once). DuckDB is a benchmark-only dependency (`pip install '.[bench]'`).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

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


async def ours(now: datetime) -> tuple[float, float, set[str]]:
    """Seconds of one full refresh (evaluate + write every member), of the evaluation alone
    (median of 3, warm), and the members."""
    settings = get_settings()
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )  # fmt: skip
    db, graph = Db(driver, settings.neo4j_database), Graph(driver, settings.neo4j_database)
    await ensure_schema(db)
    await ensure_refresh_schema(graph)
    segment_id = str(uuid.uuid4())
    new = NewSegment(
        id=segment_id, name=f"bench_duckdb_{segment_id[:8]}", display_name="DuckDB comparison",
        description="", type=SegmentType.DYNAMIC, audience="Customer", state=SegmentState.ACTIVE,
        tags=(), timezone="UTC", schedule_kind=ScheduleKind.MANUAL, schedule_cron=None,
    )  # fmt: skip
    definition = NewDefinition(text=HEADLINE, json=None, valid=True, diagnostics=(), references=())
    await create_segment(db, new, definition, "bench", now)
    env = RefreshEnv(graph=graph, compiler=grammar_compiler(default_schema()),
                     publish=_quiet, clock=lambda: now)  # fmt: skip
    started = time.perf_counter()
    outcome = await refresh_segment(env, segment_id, "MANUAL")
    seconds = time.perf_counter() - started
    if outcome.member_count is None:
        raise SystemExit(f"refresh failed: {outcome}")
    compiled = compile_segment(HEADLINE, default_schema(), now=now)
    times = []
    for _ in range(3):  # the evaluation alone, as the refresh ran it
        started = time.perf_counter()
        await db.read(compiled.cypher, **compiled.params)
        times.append(time.perf_counter() - started)
    evaluate = statistics.median(times)
    found = await db.read(
        "MATCH (s:_Segment {id: $id})-[m:_MEMBER]->() WHERE m.since <= s.activeVersion "
        "AND (m.until IS NULL OR m.until > s.activeVersion) RETURN collect(m.key) AS keys",
        id=segment_id,
    )
    await driver.execute_query(
        "MATCH (s:_Segment {id: $id}) OPTIONAL MATCH (s)-[:_HAS_RUN|_HAS_DEFINITION]->(x) "
        "DETACH DELETE x, s", id=segment_id,
    )  # fmt: skip
    await driver.close()
    return seconds, evaluate, set(found[0]["keys"])


async def _quiet(event: dict[str, object]) -> None:
    return None


def duckdb_side(folder: Path, now: datetime) -> tuple[float, float, set[str]]:
    """(load seconds, median query seconds of 3, members)."""
    import duckdb  # a benchmark-only dependency

    con = duckdb.connect()
    started = time.perf_counter()
    for table, csv in (("customers", "customers.csv"), ("orders", "orders.csv"),
                       ("cases", "cases.csv")):  # fmt: skip
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv_auto(?)", [str(folder / csv)])
    load = time.perf_counter() - started
    times, rows = [], []
    for _ in range(3):
        started = time.perf_counter()
        rows = con.execute(SQL, {"now": now}).fetchall()
        times.append(time.perf_counter() - started)
    return load, statistics.median(times), {r[0] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="the demo is already imported")
    args = parser.parse_args()
    folder = get_settings().data_dir / f"demo-{args.customers}-{args.seed}"
    prepare(folder, args.customers, args.seed, args.reuse)
    now = datetime.now(UTC).replace(microsecond=0)  # both sides evaluate at this instant
    ours_s, evaluate_s, ours_keys = asyncio.run(ours(now))
    load_s, duck_s, duck_keys = duckdb_side(folder, now)
    print(f"now = {now.isoformat()}")
    print(f"ours   full refresh (evaluate + write {len(ours_keys):,} members): {ours_s:.2f} s")
    print(f"duckdb query (same definition, tables loaded in {load_s:.1f} s):   {duck_s:.3f} s")
    print(f"ours   evaluation alone (the compiled query, warm):            {evaluate_s:.3f} s")
    print(f"ratio ours / duckdb: full refresh x{ours_s / duck_s:.1f}, "
          f"evaluation x{evaluate_s / duck_s:.1f}")  # fmt: skip
    only_ours, only_duck = len(ours_keys - duck_keys), len(duck_keys - ours_keys)
    print(f"identical member sets: {ours_keys == duck_keys} "
          f"(only ours {only_ours}, only duckdb {only_duck})")  # fmt: skip
    if ours_keys != duck_keys:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
