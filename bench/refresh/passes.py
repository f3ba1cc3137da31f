"""N segments refreshed in one dependency pass: chains of ten, each reading the one before.

    python -m bench.refresh.passes [--segments 100] [--members 100000] [--short]

Segment k of a chain keeps the members of segment k-1 whose id is not a multiple of k + 2, so
every refresh reads its input's new active version. Prints the first pass (everything
written), a second pass after 1% of the people changed, and the order check.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from datetime import datetime

import neo4j

from server.refresh.graph import Graph, rows
from server.refresh.passes import refresh_pass
from server.refresh.records import Definition, MemberQuery, RunStatus, SegmentInfo
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings

CHAIN = 10


def compiler(segment: SegmentInfo, definition: Definition, now: datetime) -> MemberQuery:
    step = int(definition.text)
    if not segment.references:
        cypher = "MATCH (p:BenchPerson) WHERE p.member RETURN p.id AS key"
        return MemberQuery(cypher=cypher, params={}, profile_label="BenchPerson",
                           profile_key="id")  # fmt: skip
    cypher = (
        "MATCH (s:_Segment {id: $ref}) WITH s.activeVersion AS v "
        "MATCH ()-[m:_MEMBER]->(p:BenchPerson) WHERE m.segmentId = $ref AND m.since <= v "
        "AND (m.until IS NULL OR m.until > v) AND p.id % $mod <> 0 RETURN p.id AS key"
    )
    return MemberQuery(cypher=cypher, params={"ref": segment.references[0], "mod": step + 2},
                       profile_label="BenchPerson", profile_key="id")  # fmt: skip


async def setup(graph: Graph, segments: int, members: int) -> list[str]:
    await cleanup(graph)
    await graph.auto("CREATE CONSTRAINT bench_person_id IF NOT EXISTS "
                     "FOR (p:BenchPerson) REQUIRE p.id IS UNIQUE")  # fmt: skip
    for start in range(0, members, 20_000):
        keys = list(range(start, min(start + 20_000, members)))
        await graph.write(
            lambda tx, keys=keys: rows(  # type: ignore[misc]
                tx, "UNWIND $keys AS i CREATE (:BenchPerson {id: i, member: true})", keys=keys
            )
        )
    ids = [f"bench-pass-{i:03d}" for i in range(segments)]
    await graph.write(lambda tx: rows(
        tx,
        "UNWIND range(0, size($ids) - 1) AS i "
        "CREATE (s:_Segment {id: $ids[i], name: $ids[i], type: 'DYNAMIC', state: 'ACTIVE', "
        " valid: true, status: 'NOT_STARTED', audience: 'BenchPerson', timezone: 'UTC', "
        " scheduleKind: 'SYSTEM', definitionVersion: 1, activeVersion: 0, versionSeq: 0, "
        " createdAt: datetime()}) "
        "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $ids[i], version: 1, "
        " text: toString(i % $chain), valid: true}) "
        "WITH s, i WHERE i % $chain <> 0 MATCH (t:_Segment {id: $ids[i - 1]}) "
        "CREATE (s)-[:_DEPENDS_ON]->(t)",
        ids=ids, chain=CHAIN,
    ))  # fmt: skip
    return ids


async def cleanup(graph: Graph) -> None:
    async with graph.driver.session(database=graph.database) as session:
        for query in (
            "MATCH (p:BenchPerson) CALL (p) { DETACH DELETE p } IN TRANSACTIONS OF 10000 ROWS",
            "MATCH (s:_Segment) WHERE s.id STARTS WITH 'bench-' "
            "OPTIONAL MATCH (s)-[:_HAS_DEFINITION|_HAS_RUN]->(x) DETACH DELETE s, x",
        ):
            await (await session.run(query)).consume()


async def timed_pass(env: RefreshEnv, ids: list[str], label: str) -> None:
    t0 = time.perf_counter()
    outcomes = await refresh_pass(env, list(reversed(ids)), "BENCH")
    seconds = time.perf_counter() - t0
    ok = sum(o.status is RunStatus.SUCCESSFUL for o in outcomes)
    in_order = all(
        ids.index(a.segment_id) < ids.index(b.segment_id)
        for a, b in itertools.pairwise(outcomes)
        if a.segment_id[:-1] == b.segment_id[:-1]  # same chain of ten
    )
    entered = sum(o.entered or 0 for o in outcomes)
    exited = sum(o.exited or 0 for o in outcomes)
    print(f"{label}: {len(ids)} segments in {seconds:.2f} s ({ok} successful, "
          f"inputs first: {in_order}, {entered} entered, {exited} exited)")  # fmt: skip


async def main(segments: int, members: int) -> None:
    settings = get_settings()
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )  # fmt: skip
    graph = Graph(driver, settings.neo4j_database)

    async def quiet(event: dict[str, object]) -> None:
        return None

    env = RefreshEnv(graph=graph, compiler=compiler, publish=quiet, keep_versions=2)
    try:
        await ensure_refresh_schema(graph)
        ids = await setup(graph, segments, members)
        await timed_pass(env, ids, "first pass")
        await graph.write(
            lambda tx: rows(tx, "MATCH (p:BenchPerson) WHERE p.id % 100 = 7 SET p.member = false")
        )
        await timed_pass(env, ids, "pass after 1% left")
    finally:
        await cleanup(graph)
        await driver.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--members", type=int, default=None)
    parser.add_argument("--short", action="store_true", help="20 segments, 2k people (CI)")
    args = parser.parse_args()
    short = args.short
    asyncio.run(main(20 if short else args.segments, args.members or (2_000 if short else 20_000)))
