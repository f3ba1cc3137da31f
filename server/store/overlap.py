"""Overlap of segments: how many profiles are in exactly each combination of them, read from
the active memberships in one query (each segment's version bound once, memberships found
through the (segmentId, key) index), optionally per value of a profile attribute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, LiteralString

from server.store.db import Db

_OVERLAP: LiteralString = (
    "UNWIND range(0, size($ids) - 1) AS i "
    "MATCH (s:_Segment {id: $ids[i]}) WITH i, s.id AS id, s.activeVersion AS v "
    "CALL (id, v) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = id AND m.key IS NOT NULL "
    "  AND m.since <= v AND (m.until IS NULL OR m.until > v) "
    "  RETURN m.key AS key, CASE WHEN $attribute IS NULL THEN null ELSE p[$attribute] END AS value "
    "} "
    "WITH key, value, collect(i) AS combination "
    "RETURN combination, value, count(*) AS n"
)


@dataclass(frozen=True, slots=True)
class OverlapCount:
    combination: tuple[int, ...]  # positions in the ids asked, ascending: exactly these
    value: Any  # of the breakdown attribute (None without one, or when missing)
    count: int


async def overlap_counts(db: Db, ids: list[str], attribute: str | None) -> list[OverlapCount]:
    """Profiles in exactly each combination of the segments `ids` (positions into it); per
    value of `attribute` (a schema-validated property name) when given."""
    found = await db.read(_OVERLAP, ids=ids, attribute=attribute)
    return [OverlapCount(tuple(sorted(r["combination"])), r["value"], r["n"]) for r in found]
