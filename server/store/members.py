"""Memberships per the engine_labels contract: reads follow the segment's active version only;
manual edits of static segments write a new version and switch to it in the same transaction.

    (:_Segment {id, activeVersion, versionSeq})-[:_MEMBER {segmentId, key, since, until}]->(p)

`versionSeq` is the last version number handed out (the refresh engine allocates from the same
counter), so a manual edit never reuses a number a half-written refresh may hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j.time import Date, DateTime, Duration, Time

from graph_schema.cypher_names import quote_identifier
from graph_schema.model import Entity
from server.store.db import Db, Tx, rows
from server.store.pages import decode_cursor, encode_cursor
from server.store.records import Member, Page
from server.store.segments import NotFound

_ACTIVE: LiteralString = (
    "m.since <= s.activeVersion AND (m.until IS NULL OR m.until > s.activeVersion)"
)


def plain_value(value: Any) -> Any:
    """A JSON-ready form of a property value (temporal values as ISO text)."""
    if isinstance(value, Date | DateTime | Time):
        return value.iso_format()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


async def count_members(db: Db, segment_id: str) -> int:
    records = await db.read(
        "MATCH (s:_Segment {id: $id}) MATCH ()-[m:_MEMBER]->() "
        "WHERE m.segmentId = $id AND " + _ACTIVE + " RETURN count(m) AS n",
        id=segment_id,
    )
    return int(records[0]["n"]) if records else 0


async def list_members(db: Db, segment_id: str, first: int, after: str | None) -> Page[Member]:
    """Members of the active version in key order. Raises InvalidCursor."""
    scope = f"members:{segment_id}"
    pos = decode_cursor(scope, after) if after else None
    records = await db.read(
        "MATCH (s:_Segment {id: $id}) MATCH ()-[m:_MEMBER]->(p) "
        "WHERE m.segmentId = $id AND ($after IS NULL OR m.key > $after) AND " + _ACTIVE + " "
        "RETURN m.key AS key, m.since AS since, properties(p) AS props "
        "ORDER BY m.key LIMIT $limit",
        id=segment_id,
        after=pos.key if pos else None,
        limit=first + 1,
    )
    shown = records[:first]
    members = tuple(
        Member(
            key=r["key"],
            since=r["since"],
            properties={k: plain_value(v) for k, v in r["props"].items()},
        )
        for r in shown
    )
    return Page(
        items=members,
        cursors=tuple(encode_cursor(scope, m.key, str(m.key)) for m in members),
        has_next=len(records) > first,
        total=await count_members(db, segment_id),
    )


@dataclass(frozen=True, slots=True)
class MemberChange:
    version: int
    changed: tuple[str | int, ...]  # keys added, or keys removed
    unknown: tuple[str | int, ...]  # keys no profile has (adds) or no member has (removes)


async def _next_version(tx: Tx, segment_id: str) -> tuple[int, int]:
    """Lock the segment and hand out the next version: (current active, new)."""
    found = await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) "
        "SET s.versionSeq = CASE WHEN coalesce(s.versionSeq, 0) > s.activeVersion "
        "  THEN s.versionSeq ELSE s.activeVersion END + 1 "
        "RETURN s.activeVersion AS cur, s.versionSeq AS v",
        id=segment_id,
    )
    if not found:
        raise NotFound(segment_id)
    return int(found[0]["cur"]), int(found[0]["v"])


async def _switch(tx: Tx, segment_id: str, version: int, now: datetime) -> None:
    await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = $v, s.updatedAt = $now",
        id=segment_id,
        v=version,
        now=now,
    )


async def add_members(
    db: Db, segment_id: str, audience: Entity, keys: list[str | int], now: datetime
) -> MemberChange:
    """Add profiles by key as a new membership version. Raises NotFound."""
    # Label and key come from the validated schema, through the one quoting function.
    match_profile = (
        f"OPTIONAL MATCH (p:{quote_identifier(audience.label)} "
        f"{{{quote_identifier(audience.key)}: key}}) "
    )

    async def work(tx: Tx) -> MemberChange:
        cur, v = await _next_version(tx, segment_id)
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) UNWIND $keys AS key "
            + match_profile
            + "WITH s, key, p, EXISTS { MATCH (s)-[m:_MEMBER]->(p) "
            "  WHERE m.since <= $cur AND (m.until IS NULL OR m.until > $cur) } AS member "
            "CALL (s, key, p, member) { WITH * WHERE p IS NOT NULL AND NOT member "
            "  CREATE (s)-[:_MEMBER {segmentId: s.id, key: key, since: $v}]->(p) } "
            "RETURN key, p IS NULL AS unknown, member",
            id=segment_id,
            keys=keys,
            cur=cur,
            v=v,
        )
        await _switch(tx, segment_id, v, now)
        added = tuple(r["key"] for r in found if not r["unknown"] and not r["member"])
        return MemberChange(v, added, tuple(r["key"] for r in found if r["unknown"]))

    return await db.write(work)


async def remove_members(
    db: Db, segment_id: str, keys: list[str | int], now: datetime
) -> MemberChange:
    """Remove members by key as a new membership version. Raises NotFound."""

    async def work(tx: Tx) -> MemberChange:
        cur, v = await _next_version(tx, segment_id)
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id})-[m:_MEMBER]->() "
            "WHERE m.segmentId = $id AND m.key IN $keys "
            "  AND m.since <= $cur AND (m.until IS NULL OR m.until > $cur) "
            "SET m.until = $v RETURN m.key AS key",
            id=segment_id,
            keys=keys,
            cur=cur,
            v=v,
        )
        await _switch(tx, segment_id, v, now)
        removed = tuple(r["key"] for r in found)
        return MemberChange(v, removed, tuple(k for k in keys if k not in removed))

    return await db.write(work)


async def member_batches(db: Db, segment_id: str, batch_size: int) -> AsyncIterator[list[Member]]:
    """Every member of the active version in key order, a batch at a time (constant memory:
    each batch is one keyset query)."""
    after: str | int | None = None
    while True:
        records = await db.read(
            "MATCH (s:_Segment {id: $id}) MATCH ()-[m:_MEMBER]->(p) "
            "WHERE m.segmentId = $id AND ($after IS NULL OR m.key > $after) AND " + _ACTIVE + " "
            "RETURN m.key AS key, m.since AS since, properties(p) AS props "
            "ORDER BY m.key LIMIT $limit",
            id=segment_id,
            after=after,
            limit=batch_size,
        )
        if not records:
            return
        yield [
            Member(key=r["key"], since=r["since"],
                   properties={k: plain_value(v) for k, v in r["props"].items()})
            for r in records
        ]  # fmt: skip
        if len(records) < batch_size:
            return
        after = records[-1]["key"]
