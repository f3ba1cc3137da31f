"""Overlap of segments: how many profiles are in exactly each combination of them, read from
the active memberships in one query (each segment's version bound once), optionally per value
of a profile attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

import numpy as np
from neo4j import Record

from server.refresh.spans import member_at
from server.store.db import Db
from server.store.version_scan import Checked, ScanProblem, check_keys, checked_read

# One record per segment, the ids of its members' profile nodes in one list: the driver decodes
# a list of integers far faster than a record per membership, and numpy counts the
# combinations. The memberships are found by expanding from the segment node (every _MEMBER
# starts at its segment), cheaper than seeking the (segmentId, key) index (bench/expansion/
# overlap: x1.3-x2.3 over grouping per profile node in Cypher). Node ids are only compared within
# this one read, never kept. The expansion reads a version like the index scan does, so each
# list is checked like one (server.store.version_scan): ids distinct (in no order) and as many
# as the version's count.
MEMBER_NODES: LiteralString = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s, s.activeVersion AS v, s.memberCount AS n "
    "CALL (s, v) { "
    "  MATCH (s)-[m:_MEMBER]->(p) WHERE " + member_at("v") + " "
    "  RETURN collect(id(p)) AS nodes "
    "} "
    "RETURN i, v, n, nodes"
)
# The versions (and their counts) a breakdown reads, bound first and passed on.
VERSIONS: LiteralString = (
    "UNWIND range(0, size($ids) - 1) AS i MATCH (s:_Segment {id: $ids[i]}) "
    "RETURN i, coalesce(s.activeVersion, 0) AS v, s.memberCount AS n"
)
# With a breakdown, grouped by profile node in Cypher (the combination as a bit mask), so the
# attribute is read once per profile, not once per membership. A membership read twice would
# add its bit twice (a carry into another segment's bit, or past the last); one missed lowers
# its segment's total: `_breakdown_problem` checks both against the versions' counts.
OVERLAP_BY_VALUE: LiteralString = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "WITH i, $ids[i] AS id, $versions[i] AS v "
    "CALL (id, v) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = id AND m.key IS NOT NULL "
    "  AND " + member_at("v") + " "
    "  RETURN p "
    "} "
    "WITH p, sum(toInteger(2 ^ i)) AS mask "
    "WITH mask, p[$attribute] AS value "
    "RETURN mask, value, count(*) AS n"
)


DENSE = 8  # ids below DENSE x their count are counted in an array indexed by id (no sort)


@dataclass(frozen=True, slots=True)
class OverlapCount:
    combination: tuple[int, ...]  # positions in the ids asked, ascending: exactly these
    value: Any  # of the breakdown attribute (None without one, or when missing)
    count: int


async def overlap_counts(db: Db, ids: list[str], attribute: str | None) -> list[OverlapCount]:
    """Profiles in exactly each combination of the segments `ids` (positions into it); per
    value of `attribute` (a schema-validated property name) when given.
    Raises ScanInconsistent (see server.store.version_scan)."""
    what = "overlap of " + ", ".join(ids)
    if attribute is not None:

        async def by_value() -> tuple[Versions, list[Record]]:
            return await _by_value(db, ids, attribute)

        found = await checked_read(what, ids[0] if ids else "", by_value, _breakdown_problem)
        return [OverlapCount(_positions(r["mask"]), r["value"], r["n"]) for r in found[1]]
    nodes: list[list[int]] = [[] for _ in ids]  # a segment gone meanwhile has no members

    async def read() -> list[Record]:
        return await db.read(MEMBER_NODES, ids=ids)

    async def check(found: list[Record]) -> Checked:
        for r in found:
            if problem := check_keys(r["nodes"], count=r["n"], ordered=False):
                return r["v"], ScanProblem(problem.reason, f"{ids[r['i']]}: {problem.detail}")
        return None, None

    for r in await checked_read(what, ids[0] if ids else "", read, check):
        nodes[r["i"]] = r["nodes"]
    return [OverlapCount(combo, None, n) for combo, n in combination_counts(nodes).items()]


Versions = list[tuple[int, int | None]]  # per position: (version, its count or None)


async def _by_value(db: Db, ids: list[str], attribute: str) -> tuple[Versions, list[Record]]:
    found = {r["i"]: (int(r["v"]), r["n"]) for r in await db.read(VERSIONS, ids=ids)}
    # A segment gone meanwhile reads as version 0 (no memberships) with no count to check.
    versions = [found.get(i, (0, None)) for i in range(len(ids))]
    bound = [v for v, _ in versions]
    return versions, await db.read(OVERLAP_BY_VALUE, ids=ids, versions=bound, attribute=attribute)


async def _breakdown_problem(read: tuple[Versions, list[Record]]) -> Checked:
    versions, found = read
    totals = [0] * len(versions)
    for r in found:
        if r["mask"] >= 1 << len(versions):
            return None, ScanProblem("duplicate", f"combination mask {r['mask']} out of range")
        for i in _positions(r["mask"]):
            totals[i] += r["n"]
    for i, (version, count) in enumerate(versions):
        if count is not None and totals[i] != count:
            return version, ScanProblem("count", f"segment {i}: {totals[i]} members, the "
                                                 f"version holds {count}")  # fmt: skip
    return None, None


def combination_counts(members: list[list[int]]) -> dict[tuple[int, ...], int]:
    """How many ids are in exactly each combination of the lists (positions, ascending); an
    id appears at most once per list, ids are not negative."""
    if not members:
        return {}
    ids = np.concatenate([np.asarray(m, dtype=np.int64) for m in members])
    bits = np.concatenate([np.full(len(m), 1 << i, dtype=np.int64) for i, m in enumerate(members)])
    if ids.size and ids.max() < DENSE * ids.size:  # node ids are dense: index by them, no sort
        summed = np.bincount(ids, weights=bits)
    else:
        _, owner = np.unique(ids, return_inverse=True)
        summed = np.bincount(owner, weights=bits)
    masks = summed[summed > 0].astype(np.int64)  # bits are distinct per id: the sum is the mask
    counts = np.bincount(masks)
    return {_positions(m): int(counts[m]) for m in np.flatnonzero(counts).tolist()}


def _positions(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
