"""Overlap of 5 segments of 100k+ members each, from stored memberships.

    python -m bench.expansion.overlap                 # 300,000 profiles, 5 segments
    python -m bench.expansion.overlap --profiles 100000

Wipes the database of NEO4J_URI, writes profiles and memberships as a refresh would
(`_MEMBER {segmentId, key, since: 1}` on segments at version 1), then times `overlap_counts`
(one list of member node ids per segment, found by expanding from the segment node, combined
in numpy) cold, then warm, side by side with the previous query (grouped per profile node into
a bit mask in Cypher, through the (segmentId, key) index; the ratio is against it), the one
before (grouped by key string into lists), the lists found through the index, one query per
segment run together, and the server's reads alone (nothing sent back); it checks every
shape's counts against numpy set arithmetic and prints the load average. With a breakdown
(by `tier`), the previous query is timed beside the same grouping found by expanding from the
segment node, and beside the lists of node ids with the attribute read once per distinct node.

    python -m bench.expansion.overlap --reuse       # measure again without reloading

On a graph that must not be wiped (the 1M demo), `python -m bench.expansion.graph_run
--skip-expansion --write 0 --overlap` writes five segments through the refresh engine and times
`overlap_counts` there, deleting them afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, LiteralString

import neo4j
import numpy as np

from server.refresh.graph import Graph
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings
from server.store.db import Db, Tx, rows
from server.store.overlap import MEMBER_NODES, OVERLAP_BY_VALUE, combination_counts, overlap_counts
from tests.conftest import wipe_graph

SEGMENTS = 5
WARM = 5  # warm rounds; the median is shown (the machine is shared: single runs vary)
_MEMBERS = (
    "MATCH (seg:_Segment {id: $id}) UNWIND $keys AS k "
    "CALL (seg, k) { MATCH (c:Customer {customerId: k}) "
    "  CREATE (seg)-[:_MEMBER {segmentId: seg.id, key: k, since: 1}]->(c) } "
    "IN TRANSACTIONS OF 50000 ROWS"
)
# The query before lists of node ids: grouped by profile node into a bit mask in Cypher,
# memberships found through the (segmentId, key) index. The ratio is against it.
PREVIOUS = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s.id AS id, s.activeVersion AS v "
    "CALL (id, v) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = id AND m.key IS NOT NULL "
    "  AND m.since <= v AND (m.until IS NULL OR m.until > v) "
    "  RETURN p "
    "} "
    "WITH p, sum(toInteger(2 ^ i)) AS mask "
    "RETURN mask, count(*) AS n"
)
# The query before that: grouped by key string into lists.
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
# One record per segment: the driver decodes one list of integers far faster than a record per
# membership. Node ids are only compared within this one read, never kept.
LISTS_INDEX = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s.id AS id, s.activeVersion AS v "
    "CALL (id, v) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = id AND m.key IS NOT NULL "
    "  AND m.since <= v AND (m.until IS NULL OR m.until > v) "
    "  RETURN collect(id(p)) AS nodes "
    "} "
    "RETURN i, nodes"
)
# Diagnostic, not a shape: the server's work alone (the same reads, nothing sent back).
SERVER_ONLY = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s, s.activeVersion AS v "
    "CALL (s, v) { "
    "  MATCH (s)-[m:_MEMBER]->(p) WHERE m.since <= v AND (m.until IS NULL OR m.until > v) "
    "  RETURN count(p) AS n "
    "} "
    "RETURN i, n"
)
ONE_EXPAND = (
    "MATCH (s:_Segment {id: $id}) WITH s, s.activeVersion AS v "
    "MATCH (s)-[m:_MEMBER]->(p) WHERE m.since <= v AND (m.until IS NULL OR m.until > v) "
    "RETURN collect(id(p)) AS nodes"
)
# A breakdown: the server's query (OVERLAP_BY_VALUE, grouped in Cypher), and the lists of node ids
# with one read of the attribute per distinct profile node afterwards (in the same transaction;
# a wrapped value keeps nulls in).
EXPAND_BY_VALUE = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s, s.activeVersion AS v "
    "CALL (s, v) { "
    "  MATCH (s)-[m:_MEMBER]->(p) WHERE m.since <= v AND (m.until IS NULL OR m.until > v) "
    "  RETURN p "
    "} "
    "WITH p, sum(toInteger(2 ^ i)) AS mask "
    "WITH mask, p[$attribute] AS value "
    "RETURN mask, value, count(*) AS n"
)
NODE_VALUES = (
    "UNWIND $nodes AS n OPTIONAL MATCH (p) WHERE id(p) = n "
    "RETURN collect([p[$attribute]]) AS values"
)
SHARES = (0.4, 0.45, 0.5, 0.55, 0.6)  # of the profiles, so each has 100k+ at 300k


def member_sets(profiles: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.flatnonzero(rng.random(profiles) < share) for share in SHARES]


def load(driver: neo4j.Driver, profiles: int) -> list[np.ndarray]:
    wipe_graph(driver)
    driver.execute_query("CREATE CONSTRAINT customer_id IF NOT EXISTS "
                         "FOR (c:Customer) REQUIRE c.customerId IS UNIQUE")  # fmt: skip
    with driver.session() as s:
        s.run("UNWIND range(0, $n - 1) AS i "
              "CALL (i) { CREATE (:Customer {customerId: i, tier: i % 4}) } "
              "IN TRANSACTIONS OF 50000 ROWS", n=profiles).consume()  # fmt: skip
    sets = member_sets(profiles)
    for i, keys in enumerate(sets):
        driver.execute_query("CREATE (:_Segment {id: $id, name: $id, activeVersion: 1})",
                             id=f"s{i}")  # fmt: skip
        with driver.session() as s:
            s.run(_MEMBERS, id=f"s{i}", keys=keys.tolist()).consume()
    return sets


async def lists_of(db: Db, query: LiteralString, ids: list[str]) -> dict[tuple[int, ...], int]:
    rows = sorted((r["i"], r["nodes"]) for r in await db.read(query, ids=ids))
    return combination_counts([nodes for _, nodes in rows])


ByValue = dict[tuple[tuple[int, ...], object], int]


async def grouped_by_value(db: Db, query: LiteralString, ids: list[str]) -> ByValue:
    found = await db.read(query, ids=ids, attribute="tier")
    return {(_positions(r["mask"]), r["value"]): r["n"] for r in found}


async def lists_by_value(db: Db, ids: list[str]) -> ByValue:
    async def work(tx: Tx) -> tuple[list[int], list[list[object]]]:
        nodes: list[list[int]] = [[] for _ in ids]
        for r in await rows(tx, MEMBER_NODES, ids=ids):
            nodes[r["i"]] = r["nodes"]
        found = np.concatenate([np.asarray(n, dtype=np.int64) for n in nodes])
        bits = np.concatenate(
            [np.full(len(n), 1 << i, dtype=np.int64) for i, n in enumerate(nodes)]
        )
        unique, owner = np.unique(found, return_inverse=True)
        masks = np.bincount(owner, weights=bits).astype(np.int64)
        values = await rows(tx, NODE_VALUES, nodes=unique.tolist(), attribute="tier")
        return masks.tolist(), values[0]["values"]

    masks, values = await db.read_tx(work)
    counts = Counter(zip(masks, (v[0] for v in values), strict=True))
    return {(_positions(m), v): n for (m, v), n in counts.items()}


def _positions(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)


async def one_per_segment(db: Db, ids: list[str]) -> dict[tuple[int, ...], int]:
    found = await asyncio.gather(*(db.read(ONE_EXPAND, id=i) for i in ids))
    return combination_counts([rows[0]["nodes"] for rows in found])


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
    member = np.zeros((profiles, SEGMENTS), dtype=bool)
    for i, keys in enumerate(sets):
        member[keys, i] = True
    expected = dict(Counter(tuple(np.flatnonzero(row).tolist()) for row in member if row.any()))

    tier = np.arange(profiles) % 4
    by_value = dict(
        Counter((tuple(np.flatnonzero(row).tolist()), int(tier[k])) for k, row in enumerate(member)
                if row.any())
    )  # fmt: skip

    async def ours() -> dict[tuple[int, ...], int]:
        return {c.combination: c.count for c in await overlap_counts(db, ids, None)}

    async def previous() -> dict[tuple[int, ...], int]:
        found = await db.read(PREVIOUS, ids=ids)
        return {tuple(i for i in range(SEGMENTS) if r["mask"] >> i & 1): r["n"] for r in found}

    async def baseline() -> None:
        await db.read(BASELINE, ids=ids)

    async def server_only() -> None:
        await db.read(SERVER_ONLY, ids=ids)

    shapes: dict[str, Callable[[], Awaitable[dict[Any, int] | None]]] = {
        "overlap_counts": ours,
        "previous (mask per node)": previous,
        "baseline (key lists)": baseline,
        "lists via index": lambda: lists_of(db, LISTS_INDEX, ids),
        "expand, 5 queries at once": lambda: one_per_segment(db, ids),
        "(server alone: expand, count)": server_only,
        "breakdown: previous": lambda: grouped_by_value(db, OVERLAP_BY_VALUE, ids),
        "breakdown: grouped, expand": lambda: grouped_by_value(db, EXPAND_BY_VALUE, ids),
        "breakdown: lists + values": lambda: lists_by_value(db, ids),
    }
    times: dict[str, list[float]] = {name: [] for name in shapes}
    for attempt in ("cold", *["warm"] * WARM):
        for name, shape in shapes.items():
            started = time.perf_counter()
            found = await shape()
            times[name].append(time.perf_counter() - started)
            if found is not None:
                want = by_value if name.startswith("breakdown") else expected
                assert found == want, f"{name}: counts differ"
        print(attempt + ": " + ", ".join(f"{n} {t[-1]:.2f} s" for n, t in times.items()))
    for name, t in times.items():
        breakdown = name.startswith("breakdown")
        against = "breakdown: previous" if breakdown else "previous (mask per node)"
        ref, warm = float(np.median(times[against][1:])), float(np.median(t[1:]))
        print(f"warm median {name:30} {warm:6.2f} s  x{ref / warm:.2f} vs {against}")
    print(f"segment sizes {[len(s) for s in sets]}; counts equal numpy set arithmetic")
    print(f"load average {os.getloadavg()}")
    await driver.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=300_000)
    parser.add_argument("--reuse", action="store_true", help="measure the data loaded before")
    args = parser.parse_args()
    if args.reuse:
        asyncio.run(measure(member_sets(args.profiles), args.profiles))
        return
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
