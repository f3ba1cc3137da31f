"""Reads of a segment's definition versions (written by `segments`)."""

from __future__ import annotations

import json

from neo4j.graph import Node

from server.store.db import Db
from server.store.pages import decode_cursor, encode_cursor
from server.store.records import DefinitionRecord, Diagnostic, Page


def to_definition(node: Node) -> DefinitionRecord:
    p = dict(node)
    return DefinitionRecord(
        segment_id=p["segmentId"],
        version=p["version"],
        text=p["text"],
        json=p.get("json"),
        valid=p["valid"],
        diagnostics=tuple(Diagnostic(**d) for d in json.loads(p.get("diagnostics") or "[]")),
        references=tuple(p.get("references", ())),
        author=p["author"],
        created_at=p["createdAt"].to_native(),
    )


async def get_definition(db: Db, segment_id: str, version: int) -> DefinitionRecord | None:
    records = await db.read(
        "MATCH (d:_SegmentDefinition {segmentId: $id, version: $version}) RETURN d",
        id=segment_id,
        version=version,
    )
    return to_definition(records[0]["d"]) if records else None


async def list_definitions(
    db: Db, segment_id: str, first: int, after: str | None
) -> Page[DefinitionRecord]:
    """Newest version first. Raises InvalidCursor."""
    scope = f"definitions:{segment_id}"
    pos = decode_cursor(scope, after) if after else None
    below = int(pos.key) if pos else None
    records = await db.read(
        "MATCH (d:_SegmentDefinition {segmentId: $id}) "
        "WHERE $below IS NULL OR d.version < $below "
        "RETURN d ORDER BY d.version DESC LIMIT $limit",
        id=segment_id,
        below=below,
        limit=first + 1,
    )
    total = await db.read(
        "MATCH (d:_SegmentDefinition {segmentId: $id}) RETURN count(d) AS n", id=segment_id
    )
    shown = [to_definition(r["d"]) for r in records[:first]]
    return Page(
        items=tuple(shown),
        cursors=tuple(encode_cursor(scope, d.version, str(d.version)) for d in shown),
        has_next=len(records) > first,
        total=int(total[0]["n"]),
    )
