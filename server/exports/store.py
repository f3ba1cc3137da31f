"""Exports in Neo4j, beside the segments they carry:

    (:_Export {id, name (unique), description, state, destinationKind, destinationPath,
               destinationUrl, headerNames, headerValues, columns, triggerKind, scheduleCron,
               timezone, lostSegments, runSeq, lastRunStatus, lastRunAt, lastScheduledAt,
               createdAt, updatedAt, createdBy})
      -[:_EXPORTS {position}]->(:_Segment)          the segments it carries, in order

The `_EXPORTS` edges make an export a dependent of each segment (usage, delete guard).
Runs are in `runs.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString

from neo4j import Record
from neo4j.exceptions import ConstraintError

from server.exports.records import (
    CarriedSegment,
    Destination,
    DestinationKind,
    ExportRecord,
    ExportRunStatus,
    ExportState,
    NewExport,
    Trigger,
    TriggerKind,
)
from server.store.db import Db, Tx, rows
from server.store.pages import decode_cursor, encode_cursor
from server.store.records import Page


class NotFound(Exception):
    """No export (or no segment it should carry) has this id."""


class NameTaken(Exception):
    """Another export has this name."""


RETURN_EXPORT: LiteralString = (
    "RETURN e {.*, segments: [(e)-[x:_EXPORTS]->(s:_Segment) | "
    "  {id: s.id, name: s.name, audience: s.audience, position: x.position}]} AS e"
)


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def to_export(record: Record) -> ExportRecord:
    p = record["e"]
    carried = sorted(p["segments"], key=lambda s: s["position"])
    status = p.get("lastRunStatus")
    return ExportRecord(
        id=p["id"], name=p["name"], description=p.get("description") or "",
        state=ExportState(p["state"]),
        destination=Destination(
            kind=DestinationKind(p["destinationKind"]), path=p.get("destinationPath"),
            url=p.get("destinationUrl"),
            headers=tuple(zip(p.get("headerNames") or [], p.get("headerValues") or [],
                              strict=True)),
        ),
        columns=tuple(p["columns"]) if p.get("columns") is not None else None,
        trigger=Trigger(kind=TriggerKind(p["triggerKind"]), cron=p.get("scheduleCron"),
                        timezone=p.get("timezone") or "UTC"),
        segments=tuple(CarriedSegment(id=s["id"], name=s["name"], audience=s["audience"])
                       for s in carried),
        lost_segments=tuple(p.get("lostSegments") or ()),
        last_run_status=ExportRunStatus(status) if status else None,
        last_run_at=_native(p.get("lastRunAt")),
        last_scheduled_at=_native(p.get("lastScheduledAt")),
        created_at=p["createdAt"].to_native(), updated_at=p["updatedAt"].to_native(),
        created_by=p["createdBy"],
    )  # fmt: skip


def _props(new: NewExport) -> dict[str, Any]:
    d, t = new.destination, new.trigger
    return {
        "name": new.name, "description": new.description, "state": new.state.value,
        "destinationKind": d.kind.value, "destinationPath": d.path, "destinationUrl": d.url,
        "headerNames": [h[0] for h in d.headers], "headerValues": [h[1] for h in d.headers],
        "columns": list(new.columns) if new.columns is not None else None,
        "triggerKind": t.kind.value, "scheduleCron": t.cron, "timezone": t.timezone,
    }  # fmt: skip


async def _carry(tx: Tx, export_id: str, segment_ids: tuple[str, ...]) -> None:
    """Replace the carried segments. Raises NotFound when one no longer exists."""
    await rows(tx, "MATCH (:_Export {id: $id})-[x:_EXPORTS]->() DELETE x", id=export_id)
    found = await rows(
        tx,
        "MATCH (e:_Export {id: $id}) UNWIND range(0, size($ids) - 1) AS i "
        "MATCH (s:_Segment {id: $ids[i]}) CREATE (e)-[:_EXPORTS {position: i}]->(s) "
        "RETURN count(*) AS n",
        id=export_id,
        ids=list(segment_ids),
    )
    if found[0]["n"] != len(segment_ids):
        raise NotFound("a segment was deleted meanwhile")


async def create_export(db: Db, new: NewExport, actor: str, now: datetime) -> ExportRecord:
    """Raises NameTaken, NotFound (a segment is gone)."""

    async def work(tx: Tx) -> ExportRecord:
        await rows(
            tx,
            "CREATE (e:_Export {id: $id, runSeq: 0, lostSegments: [], createdAt: $now, "
            " updatedAt: $now, createdBy: $actor}) SET e += $props",
            id=new.id, now=now, actor=actor, props=_props(new),
        )  # fmt: skip
        await _carry(tx, new.id, new.segment_ids)
        return to_export((await rows(tx, "MATCH (e:_Export {id: $id}) " + RETURN_EXPORT,
                                     id=new.id))[0])  # fmt: skip

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(new.name) from exc


async def update_export(db: Db, new: NewExport, now: datetime) -> ExportRecord:
    """Write the export's whole new state. Raises NotFound, NameTaken."""

    async def work(tx: Tx) -> ExportRecord:
        found = await rows(
            tx, "MATCH (e:_Export {id: $id}) SET e += $props, e.updatedAt = $now RETURN e.id",
            id=new.id, props=_props(new), now=now,
        )  # fmt: skip
        if not found:
            raise NotFound(new.id)
        await _carry(tx, new.id, new.segment_ids)
        return to_export((await rows(tx, "MATCH (e:_Export {id: $id}) " + RETURN_EXPORT,
                                     id=new.id))[0])  # fmt: skip

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(new.name) from exc


async def delete_export(db: Db, export_id: str) -> bool:
    """Delete an export and its run history (files written stay). False when there was none."""

    async def work(tx: Tx) -> bool:
        await rows(tx, "MATCH (r:_ExportRun {exportId: $id}) DETACH DELETE r", id=export_id)
        found = await rows(
            tx, "MATCH (e:_Export {id: $id}) DETACH DELETE e RETURN count(*) AS n", id=export_id
        )
        return bool(found[0]["n"])

    return await db.write(work)


async def get_exports(db: Db, ids: list[str]) -> list[ExportRecord | None]:
    """The exports with these ids, in the same order (None for unknown ids)."""
    found = await db.read("MATCH (e:_Export) WHERE e.id IN $ids " + RETURN_EXPORT, ids=ids)
    by_id = {r["e"]["id"]: to_export(r) for r in found}
    return [by_id.get(i) for i in ids]


async def get_export_by_name(db: Db, name: str) -> ExportRecord | None:
    found = await db.read("MATCH (e:_Export {name: $name}) " + RETURN_EXPORT, name=name)
    return to_export(found[0]) if found else None


async def list_exports(db: Db, first: int, after: str | None) -> Page[ExportRecord]:
    """Exports by name, a keyset page. Raises InvalidCursor."""
    pos = decode_cursor("exports", after) if after else None

    async def work(tx: Tx) -> tuple[list[ExportRecord], int]:
        found = await rows(
            tx,
            "MATCH (e:_Export) WHERE $after IS NULL OR e.name > $after "
            "WITH e ORDER BY e.name LIMIT $limit " + RETURN_EXPORT,
            after=pos.key if pos else None, limit=first + 1,
        )  # fmt: skip
        total = await rows(tx, "MATCH (e:_Export) RETURN count(e) AS n")
        return [to_export(r) for r in found], int(total[0]["n"])

    found, total = await db.read_tx(work)
    items = tuple(found[:first])
    return Page(
        items=items,
        cursors=tuple(encode_cursor("exports", e.name, e.id) for e in items),
        has_next=len(found) > first,
        total=total,
    )


async def exports_of_segment(db: Db, segment_id: str) -> list[ExportRecord]:
    """The exports carrying a segment, by name."""
    found = await db.read(
        "MATCH (e:_Export)-[:_EXPORTS]->(:_Segment {id: $id}) WITH e ORDER BY e.name "
        + RETURN_EXPORT,
        id=segment_id,
    )
    return [to_export(r) for r in found]


async def triggered_exports(
    db: Db, kind: TriggerKind, segment_ids: list[str] | None = None
) -> list[ExportRecord]:
    """Active exports with this trigger (carrying one of `segment_ids`, when given), by id."""
    found = await db.read(
        "MATCH (e:_Export {triggerKind: $kind, state: 'ACTIVE'}) "
        "WHERE $ids IS NULL OR EXISTS { (e)-[:_EXPORTS]->(s:_Segment) WHERE s.id IN $ids } "
        "WITH e ORDER BY e.id " + RETURN_EXPORT,
        kind=kind.value, ids=segment_ids,
    )  # fmt: skip
    return [to_export(r) for r in found]


async def mark_scheduled(db: Db, ids: list[str], at: datetime) -> None:
    """Remember the schedule time handled, so the next tick does not fire it again."""

    async def work(tx: Tx) -> None:
        await rows(
            tx,
            "UNWIND $ids AS id MATCH (e:_Export {id: id}) SET e.lastScheduledAt = $at",
            ids=ids,
            at=at,
        )

    await db.write(work)
