"""Who depends on a segment: other segments reading it, the exports carrying it
(`(:_Export)-[:_EXPORTS]->(:_Segment)`, see server/exports/store.py), the score models whose
rules read it (`(:_ScoreModel)-[:_READS]->`, server/leads/store.py), the lead models whose
audience reads it (`(:_LeadModel)-[:_READS]->`, server/predict/store.py), and external consumers
registered through the API (campaigns, journeys, exports elsewhere) as `_SegmentUsage` nodes:

    (:_SegmentUsage {id, segmentId, kind, consumer, description, createdAt, createdBy})
        -[:_USES]->(:_Segment)
"""

from __future__ import annotations

from datetime import datetime

from neo4j.graph import Node

from server.store.db import Db, Tx, rows
from server.store.records import ConsumerKind, Dependent, UsageRecord


def to_usage(node: Node) -> UsageRecord:
    p = dict(node)
    return UsageRecord(
        id=p["id"],
        segment_id=p["segmentId"],
        kind=ConsumerKind(p["kind"]),
        consumer=p["consumer"],
        description=p.get("description", ""),
        created_at=p["createdAt"].to_native(),
        created_by=p["createdBy"],
    )


async def dependents_in(tx: Tx, segment_id: str) -> list[Dependent]:
    """Dependents read inside a transaction, so a delete can check and act atomically."""
    found = await rows(
        tx,
        "MATCH (t:_Segment {id: $id}) "
        "CALL (t) { MATCH (s:_Segment)-[:_DEPENDS_ON]->(t) "
        "  RETURN 'SEGMENT' AS kind, s.id AS id, s.name AS name, 'Segment' AS node "
        "  UNION ALL MATCH (e:_Export)-[:_EXPORTS]->(t) "
        "  RETURN 'EXPORT' AS kind, e.id AS id, e.name AS name, 'Export' AS node "
        "  UNION ALL MATCH (m:_ScoreModel)-[:_READS]->(t) "
        "  RETURN 'SCORE_MODEL' AS kind, m.id AS id, m.name AS name, 'ScoreModel' AS node "
        "  UNION ALL MATCH (m:_LeadModel)-[:_READS]->(t) "
        "  RETURN 'LEAD_MODEL' AS kind, m.id AS id, m.name AS name, 'LeadModel' AS node "
        "  UNION ALL MATCH (u:_SegmentUsage)-[:_USES]->(t) "
        "  RETURN u.kind AS kind, u.id AS id, u.consumer AS name, 'SegmentUsage' AS node } "
        "RETURN kind, id, name, node ORDER BY kind, name, id",
        id=segment_id,
    )
    return [Dependent(kind=r["kind"], id=r["id"], name=r["name"], node=r["node"]) for r in found]


async def list_dependents(db: Db, segment_id: str) -> list[Dependent]:
    return await db.read_tx(lambda tx: dependents_in(tx, segment_id))


async def list_usages(db: Db, segment_id: str) -> list[UsageRecord]:
    records = await db.read(
        "MATCH (u:_SegmentUsage {segmentId: $id}) RETURN u ORDER BY u.createdAt, u.id",
        id=segment_id,
    )
    return [to_usage(r["u"]) for r in records]


async def register_usage(db: Db, usage: UsageRecord, now: datetime) -> UsageRecord | None:
    """Record an external consumer; None when the segment does not exist."""

    async def work(tx: Tx) -> UsageRecord | None:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $segmentId}) "
            "CREATE (u:_SegmentUsage {id: $id, segmentId: $segmentId, kind: $kind, "
            " consumer: $consumer, description: $description, createdAt: $now, "
            " createdBy: $actor})-[:_USES]->(s) RETURN u",
            id=usage.id,
            segmentId=usage.segment_id,
            kind=usage.kind,
            consumer=usage.consumer,
            description=usage.description,
            now=now,
            actor=usage.created_by,
        )
        return to_usage(found[0]["u"]) if found else None

    return await db.write(work)


async def unregister_usage(db: Db, usage_id: str) -> UsageRecord | None:
    """Remove an external usage; returns what was removed, None when there was none."""

    async def work(tx: Tx) -> UsageRecord | None:
        found = await rows(tx, "MATCH (u:_SegmentUsage {id: $id}) RETURN u", id=usage_id)
        await rows(tx, "MATCH (u:_SegmentUsage {id: $id}) DETACH DELETE u", id=usage_id)
        return to_usage(found[0]["u"]) if found else None

    return await db.write(work)
