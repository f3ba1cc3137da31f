"""What the refresh engine reads and writes on `_Segment` outside a claimed run: the current
definition, refresh requests (QUEUED), skips and cancels.

Refresh-owned properties: status, statusDetail, lastRefreshedAt, activeVersion, versionSeq,
memberCount, refreshPending, refreshJobId, refreshQueuedAt, lastScheduledAt, and the claim's
pendingRun / pendingVersion / leaseUntil (claims.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, LiteralString

from neo4j import Record

from server.refresh.graph import Graph, Tx, rows
from server.refresh.records import Definition, ExpansionSpec, SegmentInfo, SplitSpec
from server.splits.buckets import unflatten

_SEGMENT_FIELDS: LiteralString = (
    "s {.id, .name, .type, .state, .valid, .status, .audience, .timezone, .scheduleKind, "
    "   .scheduleCron, .definitionVersion, .activeVersion, .createdAt, .lastScheduledAt, "
    "   .memberCount, .splitParentId, .splitSeed, .splitBuckets, .expansion, "
    "   refs: [(s)-[:_DEPENDS_ON]->(t:_Segment) | t.id]} AS s"
)


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def to_info(record: Record) -> SegmentInfo:
    p = record["s"]
    return SegmentInfo(
        id=p["id"],
        name=p["name"],
        type=p.get("type") or "DYNAMIC",
        state=p.get("state") or "ACTIVE",
        valid=bool(p.get("valid", True)),
        status=p.get("status") or "NOT_STARTED",
        audience=p.get("audience") or "",
        timezone=p.get("timezone") or "UTC",
        schedule_kind=p.get("scheduleKind") or "SYSTEM",
        schedule_cron=p.get("scheduleCron"),
        definition_version=int(p.get("definitionVersion") or 0),
        active_version=int(p.get("activeVersion") or 0),
        created_at=_native(p.get("createdAt")) or datetime(1970, 1, 1, tzinfo=UTC),
        last_scheduled_at=_native(p.get("lastScheduledAt")),
        references=tuple(sorted(p["refs"])),
        member_count=p.get("memberCount"),
        split=_split(p),
        expansion=ExpansionSpec.from_json(p["expansion"]) if p.get("expansion") else None,
    )


def _split(p: Mapping[str, Any]) -> SplitSpec | None:
    if p.get("splitParentId") is None:
        return None
    ranges = unflatten(p.get("splitBuckets") or [])
    return SplitSpec(parent_id=p["splitParentId"], seed=p["splitSeed"], ranges=ranges)


async def load_segments(graph: Graph, ids: list[str] | None = None) -> list[SegmentInfo]:
    """The given segments (all when `ids` is None) that exist, in id order."""
    records = await graph.read(
        "MATCH (s:_Segment) WHERE $ids IS NULL OR s.id IN $ids "
        "RETURN " + _SEGMENT_FIELDS + " ORDER BY s.id",
        ids=ids,
    )
    return [to_info(r) for r in records]


async def load_segment(graph: Graph, segment_id: str) -> SegmentInfo | None:
    found = await load_segments(graph, [segment_id])
    return found[0] if found else None


async def load_definition(graph: Graph, segment_id: str) -> Definition | None:
    """The segment's current definition version, None when it has none."""
    records = await graph.read(
        "MATCH (s:_Segment {id: $id})-[:_HAS_DEFINITION]->(d:_SegmentDefinition) "
        "WHERE d.version = s.definitionVersion RETURN d",
        id=segment_id,
    )
    return _definition(segment_id, records[0]["d"]) if records else None


def _definition(segment_id: str, d: Any) -> Definition:
    return Definition(
        segment_id=segment_id, version=int(d["version"]), text=d["text"], json=d.get("json")
    )


async def load_definitions(graph: Graph, ids: list[str]) -> dict[str, Definition]:
    """The current definition of each of `ids` that has one, in one query."""
    records = await graph.read(
        "MATCH (s:_Segment)-[:_HAS_DEFINITION]->(d:_SegmentDefinition) WHERE s.id IN $ids "
        "AND d.version = s.definitionVersion RETURN s.id AS id, d",
        ids=ids,
    )
    return {r["id"]: _definition(r["id"], r["d"]) for r in records}


async def split_groups_of(graph: Graph, ids: list[str]) -> list[str]:
    """The groups of the splits of `ids` (they refresh together with their parent)."""
    records = await graph.read(
        "MATCH (g:_Segment) WHERE g.splitParentId IN $ids RETURN g.id AS id ORDER BY id", ids=ids
    )
    return [r["id"] for r in records]


async def mark_queued(graph: Graph, job_ids: Mapping[str, str]) -> None:
    """Record refresh requests (segment id -> arq job id). A running refresh keeps its status
    REFRESHING; the request stays pending (`refreshPending`) until a run claims it, so a worker
    that finds no job for it in Redis queues it again."""
    await graph.write(
        lambda tx: rows(
            tx,
            "UNWIND keys($jobs) AS id MATCH (s:_Segment {id: id}) "
            "SET s.refreshPending = true, s.refreshJobId = $jobs[id], "
            "    s.refreshQueuedAt = datetime(), s.statusDetail = null, "
            "    s.status = CASE s.status WHEN 'REFRESHING' THEN 'REFRESHING' ELSE 'QUEUED' END",
            jobs=dict(job_ids),
        )
    )


async def mark_skipped(graph: Graph, reasons: Mapping[str, str], trigger: str) -> None:
    """Mark segments SKIPPED with a reason, each with a SKIPPED run in its history."""
    await graph.write(
        lambda tx: rows(
            tx,
            "UNWIND keys($reasons) AS id MATCH (s:_Segment {id: id}) "
            "WHERE s.pendingRun IS NULL "
            "SET s.status = 'SKIPPED', s.statusDetail = $reasons[id], s.refreshPending = false "
            "CREATE (s)-[:_HAS_RUN]->(:_SegmentRun {id: randomUUID(), segmentId: id, "
            "  status: 'SKIPPED', error: $reasons[id], trigger: $trigger, "
            "  definitionVersion: s.definitionVersion, queuedAt: s.refreshQueuedAt, "
            "  startedAt: datetime(), finishedAt: datetime(), durationMs: 0})",
            reasons=dict(reasons),
            trigger=trigger,
        )
    )


async def mark_scheduled(graph: Graph, ids: list[str], at: datetime) -> None:
    """Remember the schedule time handled, so the next tick does not fire it again."""
    await graph.write(
        lambda tx: rows(
            tx,
            "UNWIND $ids AS id MATCH (s:_Segment {id: id}) SET s.lastScheduledAt = $at",
            ids=ids,
            at=at,
        )
    )


async def request_cancel(graph: Graph, segment_id: str) -> bool:
    """Cancel a queued or running refresh: status CANCELLED (the running run notices at its
    next heartbeat and stops; its switch is refused). False when nothing was pending."""

    async def work(tx: Tx) -> bool:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) SET s.refreshTouchedAt = datetime() "
            "WITH s WHERE s.status IN ['QUEUED', 'REFRESHING'] OR s.refreshPending "
            "SET s.status = 'CANCELLED', s.statusDetail = 'cancelled on request', "
            "    s.refreshPending = false "
            "RETURN s.id",
            id=segment_id,
        )
        return bool(found)

    return await graph.write(work)


async def stranded_requests(graph: Graph) -> list[tuple[str, str | None]]:
    """Segments with a refresh asked for and not done, or whose run's lease ran out:
    (segment id, the job id recorded for it)."""
    records = await graph.read(
        "MATCH (s:_Segment) WHERE s.status IN ['QUEUED', 'REFRESHING'] "
        "AND (coalesce(s.refreshPending, false) OR s.leaseUntil < datetime() "
        "     OR (s.status = 'REFRESHING' AND s.pendingRun IS NULL)) "
        "RETURN s.id AS id, s.refreshJobId AS job ORDER BY s.id"
    )
    return [(r["id"], r["job"]) for r in records]
