"""Diff refresh against full rewrite: a segment of N members where 1% change.

    python -m bench.refresh.run            # 500k members
    python -m bench.refresh.run --short    # 20k members, for CI

Uses the Neo4j of NEO4J_URI with its own label (`BenchPerson`) and segment ids (`bench-*`),
removed at the end. Prints the seconds of each phase and the ratio of the write phases.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from datetime import datetime
from typing import Any, LiteralString

import neo4j

from server.refresh import claims, membership, runs
from server.refresh.graph import Graph, rows
from server.refresh.records import Definition, MemberQuery, SegmentInfo
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings

QUERY = MemberQuery(
    cypher="MATCH (p:BenchPerson) WHERE p.member RETURN p.id AS key",
    profile_label="BenchPerson",
    profile_key="id",
)


def compiler(segment: SegmentInfo, definition: Definition, now: datetime) -> MemberQuery:
    return QUERY


class Timeline:
    """Phase timestamps from the refresh's progress events."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    async def publish(self, event: dict[str, Any]) -> None:
        self.marks.setdefault(event["phase"], time.perf_counter())

    def span(self, start: str, end: str) -> float:
        return self.marks[end] - self.marks[start]


async def setup(graph: Graph, members: int) -> None:
    await cleanup(graph)
    await graph.auto("CREATE CONSTRAINT bench_person_id IF NOT EXISTS "
                     "FOR (p:BenchPerson) REQUIRE p.id IS UNIQUE")  # fmt: skip
    total = members + members // 100
    for start in range(0, total, 20_000):
        ids = list(range(start, min(start + 20_000, total)))
        await graph.write(lambda tx, ids=ids: rows(  # type: ignore[misc]
            tx, "UNWIND $ids AS i CREATE (:BenchPerson {id: i, member: i < $n})",
            ids=ids, n=members,
        ))  # fmt: skip
    for sid in ("bench-diff", "bench-full"):
        await graph.write(lambda tx, sid=sid: rows(  # type: ignore[misc]
            tx,
            "CREATE (s:_Segment {id: $id, name: $id, type: 'DYNAMIC', state: 'ACTIVE', "
            " valid: true, status: 'NOT_STARTED', audience: 'BenchPerson', timezone: 'UTC', "
            " scheduleKind: 'MANUAL', definitionVersion: 1, activeVersion: 0, versionSeq: 0, "
            " createdAt: datetime()}) "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, version: 1, "
            " text: 'bench', valid: true})",
            id=sid,
        ))  # fmt: skip


async def change_one_percent(graph: Graph, members: int) -> int:
    """Half of 1% leave, as many non-members join."""
    half = members // 200
    await graph.write(
        lambda tx: rows(
            tx, "MATCH (p:BenchPerson) WHERE p.id < $half SET p.member = false", half=half
        )
    )
    await graph.write(lambda tx: rows(
        tx, "MATCH (p:BenchPerson) WHERE p.id >= $n AND p.id < $n + $half SET p.member = true",
        n=members, half=half))  # fmt: skip
    return 2 * half


async def full_rewrite(env: RefreshEnv, segment_id: str) -> dict[str, float]:
    """The naive refresh: end every membership, create all members anew, switch."""
    t0 = time.perf_counter()
    claim = await claims.claim_segment(env.graph, segment_id, f"bench-{t0}",
                                       lease_ms=env.lease_ms, run_props={})  # fmt: skip
    keys = sorted(await membership.evaluate(env.graph, QUERY))
    t1 = time.perf_counter()
    await membership.rewrite_all(env.graph, claim, QUERY, keys, env.batch_size)
    t2 = time.perf_counter()
    counts = {"members": len(keys), "entered": len(keys), "exited": 0}
    await claims.switch_version(env.graph, claim, definition_version=1, counts=counts)
    return {"evaluate": t1 - t0, "write": t2 - t1, "total": time.perf_counter() - t0}


async def diff_refresh(env: RefreshEnv, timeline: Timeline, segment_id: str) -> dict[str, float]:
    timeline.marks.clear()
    t0 = time.perf_counter()
    outcome = await refresh_segment(env, segment_id, "BENCH")
    total = time.perf_counter() - t0
    assert outcome.status.value == "SUCCESSFUL", outcome
    return {"claim+clean": timeline.span("CLAIMING", "EVALUATING"),
            "evaluate": timeline.span("EVALUATING", "DIFFING"),
            "diff": timeline.span("DIFFING", "WRITING"),
            "write": timeline.span("WRITING", "SWITCHING"), "total": total}  # fmt: skip


PAGE: LiteralString = (
    "MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "WHERE m.segmentId = $id AND m.key > $after "
    "AND m.since <= $v AND (m.until IS NULL OR m.until > $v) "
    "RETURN m.key AS key, properties(p) AS props ORDER BY m.segmentId, m.key LIMIT 100"
)


async def member_page(graph: Graph, segment_id: str, after: int) -> tuple[float, int, str]:
    """Median ms of 20 runs of one 100-member page with properties (active version read
    first, as readers do), its db hits and whether an index served."""
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        v = await runs.active_version(graph, segment_id)
        await graph.read(PAGE, id=segment_id, after=after, v=v)
        times.append(1000 * (time.perf_counter() - t0))
    async with graph.driver.session(database=graph.database) as session:
        v = await runs.active_version(graph, segment_id)
        profile = await session.run("PROFILE " + PAGE, id=segment_id, after=after, v=v)
        summary = await profile.consume()
    plan = str(summary.profile)
    hits = sum(int(x) for x in re.findall(r"'dbHits': (\d+)", plan))
    seek = "RelationshipIndexSeek" in plan
    return statistics.median(times), hits, "index seek" if seek else "NO INDEX"


async def cleanup(graph: Graph) -> None:
    async with graph.driver.session(database=graph.database) as session:
        for query in (
            "MATCH (p:BenchPerson) CALL (p) { DETACH DELETE p } IN TRANSACTIONS OF 10000 ROWS",
            "MATCH (s:_Segment) WHERE s.id STARTS WITH 'bench-' "
            "OPTIONAL MATCH (s)-[:_HAS_DEFINITION|_HAS_RUN]->(x) DETACH DELETE s, x",
        ):
            await (await session.run(query)).consume()


async def main(members: int) -> None:
    settings = get_settings()
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )  # fmt: skip
    graph = Graph(driver, settings.neo4j_database)
    timeline = Timeline()
    env = RefreshEnv(graph=graph, compiler=compiler, publish=timeline.publish, keep_versions=2)
    try:
        await ensure_refresh_schema(graph)
        await setup(graph, members)
        for sid in ("bench-diff", "bench-full"):
            t0 = time.perf_counter()
            await refresh_segment(env, sid, "BENCH")
            print(f"first refresh {sid}: {members} members written in "
                  f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
        changed = await change_one_percent(graph, members)
        diff = await diff_refresh(env, timeline, "bench-diff")
        full = await full_rewrite(env, "bench-full")
        print(f"\n{members} members, {changed} changed ({100 * changed / members:.1f}%)")
        print(f"{'phase':<12}{'diff (s)':>10}{'full rewrite (s)':>20}")
        for phase in ("claim+clean", "evaluate", "diff", "write", "total"):
            other = f"{full[phase]:.3f}" if phase in full else "-"
            print(f"{phase:<12}{diff[phase]:>10.3f}{other:>20}")
        print(f"write ratio full/diff: {full['write'] / diff['write']:.1f}x; "
              f"total ratio: {full['total'] / diff['total']:.1f}x")  # fmt: skip
        for after in (-1, members // 2):
            ms, hits, how = await member_page(graph, "bench-diff", after)
            print(f"member page after key {after}: {ms:.1f} ms median, {hits} db hits, {how}")
    finally:
        await cleanup(graph)
        await driver.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--short", action="store_true", help="20k members (CI)")
    parser.add_argument("--members", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.members or (20_000 if args.short else 500_000)))
