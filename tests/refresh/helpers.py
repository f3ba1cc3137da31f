"""Test data and a literal "compiler" for refresh tests: definitions are tiny rule texts mapped
to fixed Cypher over `(:Person {id, score})`, so the engine runs real queries on real data."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from server.refresh.graph import Graph, rows
from server.refresh.records import Definition, MemberQuery, SegmentInfo

_ACTIVE = "m.since <= s.activeVersion AND (m.until IS NULL OR m.until > s.activeVersion)"


def literal_compiler(segment: SegmentInfo, definition: Definition, now: datetime) -> MemberQuery:
    """`score >= N`, `in SEG and score >= N` (reads SEG's active membership), `broken`."""
    text = definition.text
    if match := re.fullmatch(r"in (\S+) and score >= (\d+)", text):
        cypher = (
            "MATCH (s:_Segment {id: $ref})-[m:_MEMBER]->(p:Person) WHERE " + _ACTIVE + " "
            "AND p.score >= $min RETURN p.id AS key"
        )
        params: dict[str, Any] = {"ref": match.group(1), "min": int(match.group(2))}
    elif match := re.fullmatch(r"score >= (\d+)", text):
        cypher = "MATCH (p:Person) WHERE p.score >= $min RETURN p.id AS key"
        params = {"min": int(match.group(1))}
        keys = "MATCH (p:Person) WHERE p.id IN $keys AND p.score >= $min RETURN p.id AS key"
        return MemberQuery(cypher=cypher, params=params, profile_label="Person",
                           profile_key="id", keys_cypher=keys)  # fmt: skip
    else:
        cypher, params = "THIS IS NOT CYPHER", {}
    return MemberQuery(cypher=cypher, params=params, profile_label="Person", profile_key="id")


async def add_people(graph: Graph, scores: dict[int, int]) -> None:
    """Create or update people (id -> score)."""
    await graph.auto(
        "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE"
    )
    data = [{"id": k, "score": v} for k, v in scores.items()]
    await graph.write(
        lambda tx: rows(
            tx, "UNWIND $rows AS r MERGE (p:Person {id: r.id}) SET p.score = r.score", rows=data
        )
    )


def members_with(scores: dict[int, int], minimum: int) -> set[int]:
    return {k for k, v in scores.items() if v >= minimum}


async def make_segment(
    graph: Graph,
    segment_id: str,
    text: str,
    *,
    type: str = "DYNAMIC",
    state: str = "ACTIVE",
    reads: tuple[str, ...] = (),
    schedule_kind: str = "SYSTEM",
    schedule_cron: str | None = None,
    timezone: str = "UTC",
    created_at: datetime = datetime(2026, 1, 1, tzinfo=UTC),
) -> None:
    """A `_Segment` with definition version 1, shaped like the API store's."""
    await graph.write(
        lambda tx: rows(
            tx,
            "CREATE (s:_Segment {id: $id, name: $id, displayName: $id, type: $type, "
            " audience: 'Person', state: $state, valid: true, status: 'NOT_STARTED', tags: [], "
            " timezone: $tz, scheduleKind: $kind, scheduleCron: $cron, definitionVersion: 1, "
            " activeVersion: 0, versionSeq: 0, createdAt: $created, updatedAt: $created, "
            " createdBy: 'test'}) "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, version: 1, "
            " text: $text, valid: true}) "
            "WITH s UNWIND $reads AS ref MATCH (t:_Segment {id: ref}) "
            "CREATE (s)-[:_DEPENDS_ON]->(t)",
            id=segment_id,
            type=type,
            state=state,
            tz=timezone,
            kind=schedule_kind,
            cron=schedule_cron,
            created=created_at,
            text=text,
            reads=list(reads),
        )
    )


async def set_definition(graph: Graph, segment_id: str, text: str) -> None:
    """Save the next definition version (as the API does on update)."""
    await graph.write(
        lambda tx: rows(
            tx,
            "MATCH (s:_Segment {id: $id}) SET s.definitionVersion = s.definitionVersion + 1 "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, "
            " version: s.definitionVersion, text: $text, valid: true})",
            id=segment_id,
            text=text,
        )
    )


async def segment_props(graph: Graph, segment_id: str) -> dict[str, Any]:
    found = await graph.read("MATCH (s:_Segment {id: $id}) RETURN s", id=segment_id)
    return dict(found[0]["s"])


async def active_members(graph: Graph, segment_id: str) -> set[int]:
    """What a reader sees: the active version, read in one statement.

    The version is bound once (`WITH ... AS v`) before the relationships are read: Neo4j reads
    are read-committed, so `s.activeVersion` re-read per row could change mid-statement. And
    like the API's readers it scans the (segmentId, key) index: a scan of the (segmentId, until)
    index can miss a membership whose `until` a concurrent refresh moves within that index.
    """
    found = await graph.read(
        "MATCH (s:_Segment {id: $id}) WITH s.activeVersion AS v "
        "CALL (v) { MATCH ()-[m:_MEMBER]->() USING INDEX m:_MEMBER(segmentId, key) "
        "WHERE m.segmentId = $id AND m.key IS NOT NULL "
        "AND m.since <= v AND (m.until IS NULL OR m.until > v) RETURN collect(m.key) AS keys } "
        "RETURN keys",
        id=segment_id,
    )
    return set(found[0]["keys"])


async def member_rel_count(graph: Graph, segment_id: str) -> int:
    found = await graph.read(
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id RETURN count(m) AS n", id=segment_id
    )
    return int(found[0]["n"])
