"""Writes that span a segment and its neighbours: delete (with the in-use guard) and duplicate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import LiteralString

from neo4j.exceptions import ConstraintError

from server.refresh.spans import member_at
from server.store.db import Db, Tx, rows
from server.store.records import Dependent, SegmentRecord, SegmentType
from server.store.segments import NameTaken, NotFound, to_segment
from server.store.usage import dependents_in

# What hangs off a segment: definitions and usages (the API's), runs (the refresh engine's,
# reached by the edge and by `segmentId` alike). The segment itself becomes a tombstone in the
# same transaction: out of every read (they match `_Segment`), its name free. Its memberships,
# possibly millions, go afterwards in batches (`purge_deleted`): one transaction deleting a
# segment with a million member edges ran Neo4j out of memory.
_DELETE_NEIGHBOURS: tuple[LiteralString, ...] = (
    "MATCH (:_Segment {id: $id})-[:_HAS_DEFINITION]->(d:_SegmentDefinition) DETACH DELETE d",
    "MATCH (u:_SegmentUsage)-[:_USES]->(:_Segment {id: $id}) DETACH DELETE u",
    "MATCH (:_Segment {id: $id})-[:_HAS_RUN]->(r:_SegmentRun) DETACH DELETE r",
    "MATCH (r:_SegmentRun {segmentId: $id}) DETACH DELETE r",
    "MATCH (m:_ExpansionModel {segmentId: $id}) DELETE m",  # an expansion's last model summary
    "MATCH (:_Segment {id: $id})-[r]-() WHERE NOT r:_MEMBER DELETE r",
    "MATCH (s:_Segment {id: $id}) REMOVE s:_Segment SET s:_DeletedSegment, s.deletedAt = $now",
)
_PURGE_MEMBERS: LiteralString = (
    "MATCH (:_DeletedSegment {id: $id})-[m:_MEMBER]->() "
    "CALL (m) { DELETE m } IN TRANSACTIONS OF 10000 ROWS"
)
_PURGE_NODE: LiteralString = "MATCH (s:_DeletedSegment {id: $id}) DETACH DELETE s"


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    deleted: bool
    dependents: tuple[Dependent, ...]


async def delete_segment(db: Db, segment_id: str, *, force: bool, now: datetime) -> DeleteOutcome:
    """Delete a segment with its definitions, memberships, usages and refresh runs, unless
    something depends on it and `force` is false. Dependents of a forced delete record the lost
    input and lose their validity (their definition names a segment that no longer exists).
    Raises NotFound."""

    async def work(tx: Tx) -> DeleteOutcome:
        found = await rows(tx, "MATCH (s:_Segment {id: $id}) RETURN s.name AS name", id=segment_id)
        if not found:
            raise NotFound(segment_id)
        dependents = tuple(await dependents_in(tx, segment_id))
        if dependents and not force:
            return DeleteOutcome(False, dependents)
        await rows(
            tx,
            "MATCH (d:_Segment)-[:_DEPENDS_ON]->(:_Segment {id: $id}) "
            "SET d.lostInputs = coalesce(d.lostInputs, []) + $name, d.valid = false, "
            "    d.state = 'INACTIVE', d.updatedAt = $now",
            id=segment_id,
            name=found[0]["name"],
            now=now,
        )
        # Exports carrying it go on with their other segments and show what they lost.
        await rows(
            tx,
            "MATCH (e:_Export)-[:_EXPORTS]->(:_Segment {id: $id}) "
            "SET e.lostSegments = coalesce(e.lostSegments, []) + $name, e.updatedAt = $now",
            id=segment_id,
            name=found[0]["name"],
            now=now,
        )
        # One statement per kind of neighbour: optional matches chained in one statement
        # would multiply rows (definitions x usages x runs).
        for query in _DELETE_NEIGHBOURS:
            await rows(tx, query, id=segment_id, now=now)
        return DeleteOutcome(True, dependents)

    outcome = await db.write(work)
    if outcome.deleted:
        await purge_deleted(db, segment_id)
    return outcome


async def purge_deleted(db: Db, segment_id: str) -> None:
    """Remove a deleted segment's memberships in batches, then its tombstone. Idempotent: an
    interrupted purge is finished by `purge_all_deleted` (the workers' minute tick)."""
    await db.auto(_PURGE_MEMBERS, id=segment_id)
    await db.auto(_PURGE_NODE, id=segment_id)


async def purge_all_deleted(db: Db) -> int:
    """Finish every purge a crash or a restart interrupted; how many tombstones were left."""
    found = await db.read("MATCH (s:_DeletedSegment) RETURN collect(s.id) AS ids")
    ids: list[str] = found[0]["ids"]
    for segment_id in ids:
        await purge_deleted(db, segment_id)
    return len(ids)


async def duplicate_segment(
    db: Db, source_id: str, new_id: str, name: str, display_name: str, actor: str, now: datetime
) -> SegmentRecord:
    """Copy a segment's properties and current definition (as version 1) under a new name; a
    static segment's members come along as the copy's first membership version. The copy
    starts NOT_STARTED with no run history, and outside any split. Raises NotFound, NameTaken."""

    async def work(tx: Tx) -> SegmentRecord:
        found = await rows(
            tx,
            "MATCH (o:_Segment {id: $source})-[:_HAS_DEFINITION]->(od:_SegmentDefinition) "
            "WHERE od.version = o.definitionVersion "
            "CREATE (s:_Segment) SET s = o {.*, id: $id, name: $name, displayName: $displayName, "
            "  status: 'NOT_STARTED', statusDetail: null, lastRefreshedAt: null, "
            "  definitionVersion: 1, activeVersion: 0, versionSeq: 0, memberCount: 0, "
            "  lostInputs: [], pendingRun: null, pendingVersion: null, leaseUntil: null, "
            "  splitSeed: null, splitParentId: null, splitBuckets: null, splitOrder: null, "
            "  createdAt: $now, updatedAt: $now, createdBy: $actor} "
            "CREATE (s)-[:_HAS_DEFINITION]->(d:_SegmentDefinition) "
            "SET d = od {.*, segmentId: $id, version: 1, author: $actor, createdAt: $now} "
            "WITH o, s "
            "OPTIONAL MATCH (o)-[:_DEPENDS_ON]->(t:_Segment) "
            "FOREACH (x IN CASE WHEN t IS NULL THEN [] ELSE [t] END | "
            "  MERGE (s)-[:_DEPENDS_ON]->(x)) "
            "RETURN DISTINCT s, o.activeVersion AS active",
            source=source_id,
            id=new_id,
            name=name,
            displayName=display_name,
            now=now,
            actor=actor,
        )
        if not found:
            raise NotFound(source_id)
        copy = to_segment(found[0]["s"])
        if copy.type is SegmentType.STATIC:
            copy = await _copy_members(tx, source_id, copy.id, found[0]["active"])
        return copy

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(name) from exc


async def _copy_members(tx: Tx, source_id: str, copy_id: str, version: int) -> SegmentRecord:
    await rows(
        tx,
        "MATCH (c:_Segment {id: $id}) "
        "MATCH (:_Segment {id: $source})-[m:_MEMBER]->(p) "
        "WHERE " + member_at("$version") + " "
        "CREATE (c)-[:_MEMBER {segmentId: $id, key: m.key, since: 1}]->(p)",
        source=source_id,
        id=copy_id,
        version=version,
    )
    found = await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1, "
        "  s.memberCount = COUNT { ()-[m:_MEMBER]->() WHERE m.segmentId = $id } RETURN s",
        id=copy_id,
    )
    return to_segment(found[0]["s"])
