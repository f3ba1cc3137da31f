"""Segment metadata in Neo4j: `_Segment` nodes and their `_SegmentDefinition` versions.

    (:_Segment)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId, version, ...})
    (:_Segment)-[:_DEPENDS_ON]->(:_Segment)      one per segment its definition reads

Every write is one transaction: a segment and its first definition, or a new definition and
the segment's switch to it, are committed together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, LiteralString

from neo4j.exceptions import ConstraintError
from neo4j.graph import Node

from server.splits.buckets import unflatten
from server.store.db import Db, Tx, rows
from server.store.pages import (
    SORT_KEYS,
    SegmentOrder,
    SortDirection,
    check_key_type,
    decode_cursor,
    encode_cursor,
    order_scope,
)
from server.store.records import (
    Diagnostic,
    Page,
    RefreshStatus,
    ScheduleKind,
    SegmentRecord,
    SegmentState,
    SegmentType,
    SplitGroupInfo,
)


class NameTaken(Exception):
    """Another segment already has this name."""


class NotFound(Exception):
    """No segment has this id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDefinition:
    text: str
    json: str | None
    valid: bool
    diagnostics: tuple[Diagnostic, ...]
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSegment:
    id: str
    name: str
    display_name: str
    description: str
    type: SegmentType
    audience: str
    state: SegmentState
    tags: tuple[str, ...]
    timezone: str
    schedule_kind: ScheduleKind
    schedule_cron: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentFilter:
    search: str | None = None
    tags: tuple[str, ...] = ()
    type: SegmentType | None = None
    state: SegmentState | None = None
    status: RefreshStatus | None = None
    audience: str | None = None


# Read paths project times as epoch milliseconds: the driver's DateTime hydration (time zone
# arithmetic in pure Python) cost more than the rest of a 100-row segments page. They project
# only what `to_segment` reads, not `.*`: the refresh engine's own times on the node
# (refreshQueuedAt, refreshTouchedAt, ...) were decoded for every row and thrown away.
AS_SEGMENT: LiteralString = (
    "s {.id, .name, .displayName, .description, .type, .audience, .state, .valid, .status, "
    ".statusDetail, .tags, .timezone, .scheduleKind, .scheduleCron, .definitionVersion, "
    ".activeVersion, .lostInputs, .createdBy, .memberCount, .splitSeed, .splitParentId, "
    ".splitBuckets, .splitOrder, createdAt: s.createdAt.epochMillis, "
    "updatedAt: s.updatedAt.epochMillis, lastRefreshedAt: s.lastRefreshedAt.epochMillis}"
)


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, UTC)
    return value.to_native()  # type: ignore[no-any-return]


def _required_time(value: Any) -> datetime:
    found = _time(value)
    assert found is not None, "createdAt and updatedAt are set on every segment"
    return found


def to_segment(node: Node | Mapping[str, Any]) -> SegmentRecord:
    """A record of a node, or of its `AS_SEGMENT` projection (where an absent property is a
    null, so defaults apply to None too)."""
    p = dict(node)
    return SegmentRecord(
        id=p["id"],
        name=p["name"],
        display_name=p["displayName"],
        description=p.get("description") or "",
        type=SegmentType(p["type"]),
        audience=p["audience"],
        state=SegmentState(p["state"]),
        valid=p["valid"],
        status=RefreshStatus(p["status"]),
        status_detail=p.get("statusDetail"),
        last_refreshed_at=_time(p.get("lastRefreshedAt")),
        tags=tuple(p.get("tags") or ()),
        timezone=p["timezone"],
        schedule_kind=ScheduleKind(p["scheduleKind"]),
        schedule_cron=p.get("scheduleCron"),
        definition_version=p["definitionVersion"],
        active_version=p.get("activeVersion") or 0,
        lost_inputs=tuple(p.get("lostInputs") or ()),
        created_at=_required_time(p["createdAt"]),
        updated_at=_required_time(p["updatedAt"]),
        created_by=p["createdBy"],
        member_count=p.get("memberCount"),
        split_seed=p.get("splitSeed") if p.get("splitParentId") is None else None,
        split_group=_split_group(p),
    )


def _split_group(p: dict[str, Any]) -> SplitGroupInfo | None:
    if p.get("splitParentId") is None:
        return None
    return SplitGroupInfo(
        parent_id=p["splitParentId"], seed=p["splitSeed"],
        ranges=unflatten(p.get("splitBuckets") or []), order=int(p.get("splitOrder") or 0),
    )  # fmt: skip


def diagnostics_json(diagnostics: tuple[Diagnostic, ...]) -> str:
    return json.dumps([asdict(d) for d in diagnostics])


async def get_segments(db: Db, ids: list[str]) -> list[SegmentRecord | None]:
    """Segments by id in the order asked, None where missing (one query for a DataLoader)."""
    records = await db.read(
        "UNWIND $ids AS id OPTIONAL MATCH (s:_Segment {id: id}) RETURN " + AS_SEGMENT + " AS s",
        ids=ids,
    )
    return [to_segment(r["s"]) if r["s"] is not None else None for r in records]


async def get_segment_by_name(db: Db, name: str) -> SegmentRecord | None:
    records = await db.read(
        "MATCH (s:_Segment {name: $name}) RETURN " + AS_SEGMENT + " AS s", name=name
    )
    return to_segment(records[0]["s"]) if records else None


async def find_names(db: Db, names: list[str]) -> dict[str, SegmentRecord]:
    """The segments among `names` that exist, by name."""
    records = await db.read(
        "MATCH (s:_Segment) WHERE s.name IN $names RETURN " + AS_SEGMENT + " AS s", names=names
    )
    found = [to_segment(r["s"]) for r in records]
    return {s.name: s for s in found}


async def segment_names(db: Db) -> list[str]:
    """Every segment's name (for suggestions when a definition names one that does not exist)."""
    return [r["name"] for r in await db.read("MATCH (s:_Segment) RETURN s.name AS name")]


async def reaches(db: Db, start_names: list[str], target_id: str) -> bool:
    """Whether a segment among `start_names` reads `target_id`, directly or through others."""
    records = await db.read(
        "MATCH (s:_Segment) WHERE s.name IN $names "
        "MATCH p = (s)-[:_DEPENDS_ON*0..]->(t:_Segment {id: $id}) RETURN count(p) > 0 AS found",
        names=start_names,
        id=target_id,
    )
    return bool(records[0]["found"])


# Only the filters asked for reach the query (fixed fragments, never caller text): an unfiltered
# count then comes from Neo4j's count store, and no row pays for predicates that are always true.
_FILTERS: dict[str, LiteralString] = {
    "search": "(toLower(s.name) CONTAINS $search OR toLower(s.displayName) CONTAINS $search)",
    "type": "s.type = $type",
    "state": "s.state = $state",
    "status": "s.status = $status",
    "audience": "s.audience = $audience",
    "tags": "all(t IN $tags WHERE t IN s.tags)",
}


def _match(params: dict[str, Any]) -> LiteralString:
    clauses = [clause for name, clause in _FILTERS.items() if params[name]]
    if not clauses:
        return "MATCH (s:_Segment) "
    where: LiteralString = " AND ".join(clauses)
    return "MATCH (s:_Segment) WHERE " + where + " "


def _page_query(order: SegmentOrder, params: dict[str, Any], seek: bool) -> LiteralString:
    """The total and one page in one query and one record (the page collected in order): a
    record per row and a second query cost more than Neo4j's work for a thousand segments."""
    key = SORT_KEYS[order.field]
    ascending = order.direction is SortDirection.ASC
    after: LiteralString = "k > $key OR (k = $key AND s.id > $id)"
    before: LiteralString = "k < $key OR (k = $key AND s.id < $id)"
    direction: LiteralString = "ASC" if ascending else "DESC"
    page: LiteralString = (
        ("WHERE " + (after if ascending else before) + " " if seek else "")
        + "WITH s, k ORDER BY k " + direction + ", s.id " + direction + " LIMIT $limit "
    )  # fmt: skip
    match = _match(params)
    return (
        "CALL () { " + match + "RETURN count(s) AS total } "
        "CALL () { " + match + "WITH s, " + key + " AS k " + page
        + "RETURN collect({s: " + AS_SEGMENT + ", k: k}) AS page } "
        "RETURN total, page"
    )  # fmt: skip


def _filter_params(f: SegmentFilter) -> dict[str, Any]:
    return {
        "search": f.search.lower() if f.search else None,
        "tags": list(f.tags),
        "type": f.type,
        "state": f.state,
        "status": f.status,
        "audience": f.audience,
    }


async def list_segments(
    db: Db, f: SegmentFilter, order: SegmentOrder, first: int, after: str | None
) -> Page[SegmentRecord]:
    """One keyset page. Raises InvalidCursor for a cursor of another ordering."""
    scope = order_scope(order)
    pos = check_key_type(order, decode_cursor(scope, after)) if after else None
    params = _filter_params(f)
    records = await db.read(
        _page_query(order, params, seek=pos is not None),
        **params,
        key=pos.key if pos else None,
        id=pos.id if pos else None,
        limit=first + 1,
    )
    found = records[0]["page"]
    shown = found[:first]
    return Page(
        items=tuple(to_segment(r["s"]) for r in shown),
        cursors=tuple(encode_cursor(scope, r["k"], r["s"]["id"]) for r in shown),
        has_next=len(found) > first,
        total=int(records[0]["total"]),
    )


async def _link_references(tx: Tx, segment_id: str, references: tuple[str, ...]) -> None:
    await rows(tx, "MATCH (:_Segment {id: $id})-[d:_DEPENDS_ON]->() DELETE d", id=segment_id)
    await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) UNWIND $names AS name "
        "MATCH (t:_Segment {name: name}) MERGE (s)-[:_DEPENDS_ON]->(t)",
        id=segment_id,
        names=list(references),
    )


def _definition_params(d: NewDefinition) -> dict[str, Any]:
    return {
        "text": d.text,
        "json": d.json,
        "valid": d.valid,
        "diagnostics": diagnostics_json(d.diagnostics),
        "references": list(d.references),
    }


async def create_segment(
    db: Db, new: NewSegment, definition: NewDefinition, actor: str, now: datetime
) -> SegmentRecord:
    """Create a segment with definition version 1. Raises NameTaken."""
    try:
        return await db.write(lambda tx: create_in(tx, new, definition, actor, now))
    except ConstraintError as exc:
        raise NameTaken(new.name) from exc


async def create_in(
    tx: Tx, new: NewSegment, definition: NewDefinition, actor: str, now: datetime
) -> SegmentRecord:
    """`create_segment` inside a caller's transaction. Raises ConstraintError for a taken name."""
    found = await rows(
        tx,
        "CREATE (s:_Segment {id: $id, name: $name, displayName: $displayName, "
        " description: $description, type: $type, audience: $audience, state: $state, "
        " valid: $valid, status: 'NOT_STARTED', tags: $tags, timezone: $timezone, "
        " scheduleKind: $scheduleKind, scheduleCron: $scheduleCron, definitionVersion: 1, "
        " activeVersion: 0, versionSeq: 0, lostInputs: [], createdAt: $now, "
        " updatedAt: $now, createdBy: $actor}) "
        "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, version: 1, "
        " text: $text, json: $json, valid: $valid, diagnostics: $diagnostics, "
        " references: $references, author: $actor, createdAt: $now}) "
        "RETURN s",
        id=new.id,
        name=new.name,
        displayName=new.display_name,
        description=new.description,
        type=new.type,
        audience=new.audience,
        state=new.state,
        tags=list(new.tags),
        timezone=new.timezone,
        scheduleKind=new.schedule_kind,
        scheduleCron=new.schedule_cron,
        now=now,
        actor=actor,
        **_definition_params(definition),
    )
    await _link_references(tx, new.id, definition.references)
    return to_segment(found[0]["s"])


async def save_definition(
    db: Db, segment_id: str, definition: NewDefinition, state: SegmentState, actor: str,
    now: datetime,
) -> SegmentRecord:  # fmt: skip
    """Add the next definition version and make it current. Raises NotFound."""

    async def work(tx: Tx) -> SegmentRecord:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) "
            "SET s.definitionVersion = s.definitionVersion + 1, s.valid = $valid, "
            "    s.state = $state, s.updatedAt = $now, s.lostInputs = [] "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, "
            " version: s.definitionVersion, text: $text, json: $json, valid: $valid, "
            " diagnostics: $diagnostics, references: $references, author: $actor, "
            " createdAt: $now}) "
            "RETURN s",
            id=segment_id,
            state=state,
            now=now,
            actor=actor,
            **_definition_params(definition),
        )
        if not found:
            raise NotFound(segment_id)
        await _link_references(tx, segment_id, definition.references)
        return to_segment(found[0]["s"])

    return await db.write(work)


async def set_properties(
    db: Db, segment_id: str, props: dict[str, Any], now: datetime
) -> SegmentRecord:
    """Set plain properties (keys chosen by the domain code, never by users). Raises NotFound,
    NameTaken when `name` clashes."""

    async def work(tx: Tx) -> SegmentRecord:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) SET s += $props, s.updatedAt = $now RETURN s",
            id=segment_id,
            props=props,
            now=now,
        )
        if not found:
            raise NotFound(segment_id)
        return to_segment(found[0]["s"])

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(str(props.get("name"))) from exc
