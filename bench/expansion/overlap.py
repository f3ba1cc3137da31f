"""Overlap of 5 segments of 100k+ members each, from stored memberships.

    python -m bench.expansion.overlap                 # 300,000 profiles, 5 segments
    python -m bench.expansion.overlap --profiles 100000

Wipes the database of NEO4J_URI, writes profiles and memberships as a refresh would
(`_MEMBER {segmentId, key, since: 1}` on segments at version 1), then times `overlap_counts`
(cold, then warm) side by side with the earlier query (grouped by key string into lists), and
checks its counts against numpy set arithmetic.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

import neo4j
import numpy as np

from server.refresh.graph import Graph
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings
from server.store.db import Db
from server.store.overlap import overlap_counts
from tests.conftest import wipe_graph

SEGMENTS = 5
_MEMBERS = (
    "MATCH (seg:_Segment {id: $id}) UNWIND $keys AS k "
    "CALL (seg, k) { MATCH (c:Customer {customerId: k}) "
    "  CREATE (seg)-[:_MEMBER {segmentId: seg.id, key: k, since: 1}]->(c) } "
    "IN TRANSACTIONS OF 50000 ROWS"
)
# The query before grouping by profile node into a bit mask: the baseline of the ratio.
BASELINE = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s.id AS id, s.activeVersion AS v "
    "CALL (id, v) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = id AND m.key IS NOT NULL "
    "  AND m.since <= v AND (m.until IS NULL OR m.until > v) "
    "  RETURN m.key AS key, null AS value "
    "} "
    "WITH key, value, collect(i) AS combination "
    "RETURN combination, value, count(*) AS n"
)
SHARES = (0.4, 0.45, 0.5, 0.55, 0.6)  # of the profiles, so each has 100k+ at 300k


def load(driver: neo4j.Driver, profiles: int) -> list[np.ndarray]:
    wipe_graph(driver)
    driver.execute_query("CREATE CONSTRAINT customer_id IF NOT EXISTS "
                         "FOR (c:Customer) REQUIRE c.customerId IS UNIQUE")  # fmt: skip
    with driver.session() as s:
        s.run("UNWIND range(0, $n - 1) AS i CALL (i) { CREATE (:Customer {customerId: i}) } "
              "IN TRANSACTIONS OF 50000 ROWS", n=profiles).consume()  # fmt: skip
    rng = np.random.default_rng(0)
    sets = [np.flatnonzero(rng.random(profiles) < share) for share in SHARES]
    for i, keys in enumerate(sets):
        driver.execute_query("CREATE (:_Segment {id: $id, name: $id, activeVersion: 1})",
                             id=f"s{i}")  # fmt: skip
        with driver.session() as s:
            s.run(_MEMBERS, id=f"s{i}", keys=keys.tolist()).consume()
    return sets


async def measure(sets: list[np.ndarray], profiles: int) -> None:
    settings = get_settings()
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        notifications_min_severity="OFF",
    )  # fmt: skip
    await ensure_refresh_schema(Graph(driver, settings.neo4j_database))
    await driver.execute_query("CALL db.awaitIndexes(300)")
    db = Db(driver, settings.neo4j_database)
    ids = [f"s{i}" for i in range(SEGMENTS)]
    ours, baseline = [], []
    for attempt in ("cold", "warm", "warm", "warm"):
        started = time.perf_counter()
        found = await overlap_counts(db, ids, None)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        await db.read(BASELINE, ids=ids)
        baseline.append(time.perf_counter() - started)
        print(f"{attempt}: {len(found)} combinations in {ours[-1]:.2f} s "
              f"(baseline {baseline[-1]:.2f} s)")  # fmt: skip
    warm = sorted(ours[1:])[1], sorted(baseline[1:])[1]
    print(f"warm median: ours {warm[0]:.2f} s, baseline {warm[1]:.2f} s, x{warm[1] / warm[0]:.2f}")
    member = np.zeros((profiles, SEGMENTS), dtype=bool)
    for i, keys in enumerate(sets):
        member[keys, i] = True
    expected = Counter(tuple(np.flatnonzero(row).tolist()) for row in member if row.any())
    assert {c.combination: c.count for c in found} == dict(expected), "counts differ"
    print(f"segment sizes {[len(s) for s in sets]}; counts equal numpy set arithmetic")
    await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=300_000)
    args = parser.parse_args()
    settings = get_settings()
    with neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    ) as driver:
        started = time.perf_counter()
        sets = load(driver, args.profiles)
        print(f"loaded in {time.perf_counter() - started:.1f} s")
    asyncio.run(measure(sets, args.profiles))


if __name__ == "__main__":
    main()
