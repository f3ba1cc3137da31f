"""Compiler benchmark: our compiled Cypher against hand-written Cypher for the same answer.

    .venv/bin/python -m bench.compiler.run [--short] [--customers N] [--repeat R]

For each case in `bench/compiler/cases.py`, on the data already in the Neo4j of NEO4J_URI (or a
demo dataset of N customers imported first when the graph holds a different number), it:
- checks both queries return the same profile keys (a benchmark of wrong answers is worthless);
- runs them alternately R times after a warm-up (plan cache, page cache) and compares medians;
- reports PROFILE db hits of each;
- beside them, the audience-scan plan the compiler printed before candidate-driven plans
  (`compile_segment(..., candidates=False)`; the same query when no clause drives), so one run
  shows before and after.
It also times compile_segment on a ~1 KB segment (p50/p99 over many compilations).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from typing import Any

import neo4j

import grammar
from bench.compiler.cases import CASES, Case, bounds
from graph_schema import GraphSchema, default_schema
from server.settings import get_settings

Row = tuple[str, int, float, float, float, int, int, int]
"""name, members, ours / scan / hand seconds, ours / scan / hand db hits"""


def count_customers(driver: neo4j.Driver) -> int:
    records, _, _ = driver.execute_query("MATCH (c:Customer) RETURN count(c) AS n")
    return int(records[0]["n"])


def ensure_demo(driver: neo4j.Driver, customers: int) -> None:
    if count_customers(driver) == customers:
        return
    from graph_schema.demo import generate_demo
    from graph_schema.importer import import_directory
    from server.settings import get_settings

    folder = get_settings().data_dir / f"demo-{customers}-0"
    print(f"importing a {customers:,}-customer demo dataset from {folder} ...", flush=True)
    with driver.session() as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    generate_demo(folder, customers=customers, seed=0)
    report = import_directory(driver, default_schema(), folder)
    print(f"imported {report.rows:,} rows in {report.seconds:.1f}s", flush=True)


def keys(driver: neo4j.Driver, text: str, params: dict[str, Any]) -> tuple[set[Any], float]:
    start = time.perf_counter()
    records, _, _ = driver.execute_query(text, params, routing_=neo4j.RoutingControl.READ)
    return {r["key"] for r in records}, time.perf_counter() - start


def db_hits(driver: neo4j.Driver, text: str, params: dict[str, Any]) -> int:
    _, summary, _ = driver.execute_query("PROFILE " + text, params)

    def total(plan: Any) -> int:
        if plan is None:
            return 0
        own = int(plan.get("dbHits", 0)) if isinstance(plan, dict) else 0
        children = plan.get("children", []) if isinstance(plan, dict) else []
        return own + sum(total(child) for child in children)

    return total(summary.profile)


def run_case(
    driver: neo4j.Driver, schema: GraphSchema, case: Case, now: dt.datetime, repeat: int
) -> Row:
    compiled = grammar.compile_segment(case.segment, schema, now=now, timezone="UTC")
    ours_params: dict[str, Any] = dict(compiled.params)
    hand_params = bounds(now)
    scan_cypher = grammar.compile_segment(
        case.segment, schema, now=now, timezone="UTC", candidates=False
    ).cypher
    ours, _ = keys(driver, compiled.cypher, ours_params)
    hand, _ = keys(driver, case.cypher, hand_params)
    scan, _ = keys(driver, scan_cypher, ours_params)
    if scan != ours:
        sys.exit(
            f"MISMATCH in {case.name!r}: the scan plan gives {len(scan)} keys, not {len(ours)}"
        )
    if ours != hand:
        sys.exit(
            f"MISMATCH in {case.name!r}: ours {len(ours)} keys, hand-written {len(hand)}; "
            f"only ours {sorted(ours - hand)[:5]}, only hand {sorted(hand - ours)[:5]}"
        )
    ours_t: list[float] = []
    hand_t: list[float] = []
    scan_t: list[float] = []
    for _ in range(repeat):  # alternate so load changes hit every side alike
        ours_t.append(keys(driver, compiled.cypher, ours_params)[1])
        hand_t.append(keys(driver, case.cypher, hand_params)[1])
        scan_t.append(keys(driver, scan_cypher, ours_params)[1])
    return (
        case.name,
        len(ours),
        statistics.median(ours_t),
        statistics.median(scan_t),
        statistics.median(hand_t),
        db_hits(driver, compiled.cypher, ours_params),
        db_hits(driver, scan_cypher, ours_params),
        db_hits(driver, case.cypher, hand_params),
    )


def compile_timing(schema: GraphSchema, count: int) -> tuple[int, float, float]:
    clauses = [
        c.segment.split(" where ", 1)[1] for c in CASES if c.segment.startswith("segment Customer")
    ]
    clauses = [c for c in clauses if " except " not in c]
    body = clauses[0]
    while len(body) < 1000:
        body += " or (" + clauses[len(body) % len(clauses)] + ")"
    text = "segment Customer where " + body
    now = dt.datetime.now(dt.UTC)
    grammar.compile_segment(text, schema, now=now)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        grammar.compile_segment(text, schema, now=now)
        times.append(time.perf_counter() - start)
    times.sort()
    return len(text), times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="CI mode: 3 runs, 200 compilations")
    parser.add_argument("--customers", type=int, default=None, help="import demo data first")
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.short else 7)
    settings = get_settings()
    schema = default_schema()
    length, p50, p99 = compile_timing(schema, 200 if args.short else 2000)
    print(
        f"compile_segment on a {length}-character segment: p50 {p50 * 1e3:.2f} ms, "
        f"p99 {p99 * 1e3:.2f} ms (target p99 < 5 ms)\n"
    )
    with neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    ) as driver:
        if args.customers:
            ensure_demo(driver, args.customers)
        print(f"{count_customers(driver):,} customers in the graph; median of {repeat} runs each\n")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        header = f"{'case':<56} {'members':>8} {'ours ms':>9} {'scan ms':>9} {'hand ms':>9} "
        print(header + f"{'ratio':>6} {'ours hits':>11} {'scan hits':>11} {'hand hits':>11}")
        worst = 0.0
        for case in CASES:
            name, members, ours, scan, hand, ours_hits, scan_hits, hand_hits = run_case(
                driver, schema, case, now, repeat
            )
            ratio = ours / hand if hand > 0 else float("inf")
            worst = max(worst, ratio)
            print(
                f"{name[:56]:<56} {members:>8,} {ours * 1e3:>9.1f} {scan * 1e3:>9.1f} "
                f"{hand * 1e3:>9.1f} {ratio:>6.2f} {ours_hits:>11,} {scan_hits:>11,} "
                f"{hand_hits:>11,}"
            )
        print(f"\nworst time ratio ours/hand-written: {worst:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
