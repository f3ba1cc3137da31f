"""Memberships per the engine_labels contract: reads follow the segment's active version only;
manual edits of static segments write a new version and switch to it in the same transaction.

    (:_Segment {id, activeVersion, versionSeq, memberCount})-[:_MEMBER {segmentId, key, since,
        until}]->(p)

`versionSeq` is the last version number handed out (the refresh engine allocates from the same
counter), so a manual edit never reuses a number a half-written refresh may hold. `memberCount`
is the active version's size, set with every switch (refresh runs and manual edits alike).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import Record
from neo4j.time import Date, DateTime, Duration, Time

from graph_schema.cypher_names import quote_identifier
from graph_schema.model import Entity
from server.refresh.claims import discard_aborted_versions
from server.refresh.spans import member_at
from server.store.db import Db, Tx, rows
from server.store.pages import decode_cursor, encode_cursor
from server.store.records import Member, Page, SegmentRecord
from server.store.segments import AS_SEGMENT, NotFound, to_segment
from server.store.version_scan import COUNT_AT, Checked, ScanChain, check_keys, checked_read

# A page walks the (segmentId, key) index in order and stops after `first` rows (the same
# plan as the refresh engine's `runs._PAGE_MATCH`, which reads keys only; this one also needs
# the profile). Both the hint and `ORDER BY m.segmentId, m.key` are needed: without them the
# planner prefers the (segmentId, since/until) indexes, reads the whole segment and sorts it.
# The version is a parameter read first, never `s.activeVersion` per row: reads are
# read-committed, so a switch during the query could otherwise mix two versions in one page.
_PAGE_MATCH: LiteralString = (
    "MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "WHERE m.segmentId = $id AND " + member_at("$v") + " "
)
_PAGE_END: LiteralString = (
    "RETURN m.key AS key, m.since AS since, properties(p) AS props "
    "ORDER BY m.segmentId, m.key LIMIT $limit"
)
# A separate form for the first page: `$after IS NULL OR ...` defeats the index hint.
FIRST_PAGE: LiteralString = _PAGE_MATCH + "AND m.key IS NOT NULL " + _PAGE_END
NEXT_PAGE: LiteralString = _PAGE_MATCH + "AND m.key > $after " + _PAGE_END

# The API's member page in one query and one record: the active version (bound once, before
# the page is read: the same guarantee as passing it as a parameter), the kept count, and the
# page collected into a list. One record decodes far faster than a hundred, and one query
# saves the round trips of a transaction of three (about 7 ms against 20 ms a page here).
_ONE_PAGE_HEAD: LiteralString = (
    "MATCH (s:_Segment {id: $id}) "
    "WITH coalesce(s.activeVersion, 0) AS v, s.memberCount AS n "
    "CALL (v) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = $id AND " + member_at("v") + " "
)
# The profile's properties are read only as far as the caller needs them: all of them, the
# `$columns` asked (values in that order, by dynamic lookup: the names stay parameters), or
# none for a page of keys. Decoding them (dates above all) was most of the driver's work on a
# page, spent on callers that asked for keys only.
_ONE_PAGE_ORDER: LiteralString = "  WITH m, p ORDER BY m.segmentId, m.key LIMIT $limit "
_ONE_PAGE_END: LiteralString = " AS page } RETURN v, n, page"
_ALL_PROPS: LiteralString = "collect({key: m.key, since: m.since, props: properties(p)})"
_COLUMNS: LiteralString = "collect({key: m.key, since: m.since, values: [c IN $columns | p[c]]})"
_NO_PROPS: LiteralString = "collect({key: m.key, since: m.since})"


def _one_page(seek: LiteralString, collect: LiteralString) -> LiteralString:
    return _ONE_PAGE_HEAD + seek + _ONE_PAGE_ORDER + "RETURN " + collect + _ONE_PAGE_END


# (after a cursor, properties read) -> query
_PAGE_QUERIES: dict[tuple[bool, str], LiteralString] = {
    (after, kind): _one_page("AND m.key > $after " if after else "AND m.key IS NOT NULL ", collect)
    for after in (False, True)
    for kind, collect in (("all", _ALL_PROPS), ("columns", _COLUMNS), ("none", _NO_PROPS))
}


@dataclass(frozen=True, slots=True)
class Active:
    """The version readers follow and its member count (None where nothing maintains it)."""

    version: int
    count: int | None


def plain_value(value: Any) -> Any:
    """A JSON-ready form of a property value (temporal values as ISO text)."""
    if isinstance(value, Date | DateTime | Time):
        return value.iso_format()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value


async def _active(tx: Tx, segment_id: str) -> Active | None:
    found = await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) RETURN coalesce(s.activeVersion, 0) AS v, s.memberCount AS n",
        id=segment_id,
    )
    if not found:
        return None
    n = found[0]["n"]
    return Active(int(found[0]["v"]), None if n is None else int(n))


async def _count(tx: Tx, segment_id: str, active: Active) -> int:
    """`memberCount` (kept by refresh switches and static edits) or, where no writer has set
    it yet, a count of the version."""
    if active.count is not None:
        return active.count
    found = await rows(tx, COUNT_AT, id=segment_id, v=active.version)
    return int(found[0]["n"])


async def _page(
    tx: Tx, segment_id: str, version: int, after: str | int | None, limit: int
) -> list[Member]:
    query = FIRST_PAGE if after is None else NEXT_PAGE
    found = await rows(tx, query, id=segment_id, v=version, after=after, limit=limit)
    return [
        Member(key=r["key"], since=r["since"],
               properties={k: plain_value(v) for k, v in r["props"].items()})
        for r in found
    ]  # fmt: skip


async def count_members(db: Db, segment_id: str) -> int:
    """Members of the active version (0 for an unknown segment)."""

    async def work(tx: Tx) -> int:
        active = await _active(tx, segment_id)
        return 0 if active is None else await _count(tx, segment_id, active)

    return await db.read_tx(work)


def _member(row: dict[str, Any], columns: Sequence[str] | None) -> Member:
    """A member of a page row; its properties as the row carries them (absent ones left out)."""
    if "props" in row:
        props = {k: plain_value(v) for k, v in row["props"].items()}
    elif columns:
        props = {c: plain_value(v) for c, v in zip(columns, row["values"], strict=True)
                 if v is not None}  # fmt: skip
    else:
        props = {}
    return Member(key=row["key"], since=row["since"], properties=props)


async def list_members(
    db: Db, segment_id: str, first: int, after: str | None,
    columns: Sequence[str] | None = None,
) -> Page[Member]:  # fmt: skip
    """Members of the active version in key order, one version per page whatever switches
    meanwhile (the version is read first and passed on). Each member carries all the
    profile's properties, or with `columns` only those (none for an empty sequence).
    Raises InvalidCursor, ScanInconsistent."""
    scope = f"members:{segment_id}"
    pos = decode_cursor(scope, after) if after else None
    kind = "all" if columns is None else "columns" if columns else "none"
    params = {"id": segment_id, "after": pos.key if pos else None, "limit": first + 1,
              "columns": list(columns or ())}  # fmt: skip
    read = await _checked_read(db, _PAGE_QUERIES[pos is not None, kind], params,
                               first, pos is None, lambda _: columns)  # fmt: skip
    if read is None:
        return Page(items=(), cursors=(), has_next=False, total=0)
    return await _as_page(db, segment_id, scope, first, *read)


# The API's `segment(id:) { members }` in one query: the segment's fields, its active version
# and its count projected in one row (so they agree with each other), then the page as above.
# The segment's audience is not known before the query, so the columns come as a map from
# every audience to its columns and the row picks its own.
_SEGMENT_HEAD: LiteralString = (
    "MATCH (s:_Segment {id: $id}) "
    "WITH " + AS_SEGMENT + " AS seg, coalesce(s.activeVersion, 0) AS v, s.memberCount AS n, "
    "coalesce($columnsOf[s.audience], []) AS columns "
    "CALL (v, columns) { "
    "  MATCH ()-[m:_MEMBER]->(p) USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = $id AND " + member_at("v") + " "
)
_SEGMENT_COLUMNS: LiteralString = (
    "collect({key: m.key, since: m.since, values: [c IN columns | p[c]]})"
)
_SEGMENT_END: LiteralString = " AS page } RETURN seg, v, n, page"

# (after a cursor, properties read) -> query
_SEGMENT_QUERIES: dict[tuple[bool, bool], LiteralString] = {
    (after, props): _SEGMENT_HEAD
    + ("AND m.key > $after " if after else "AND m.key IS NOT NULL ")
    + _ONE_PAGE_ORDER + "RETURN " + (_SEGMENT_COLUMNS if props else _NO_PROPS) + _SEGMENT_END
    for after in (False, True)
    for props in (False, True)
}  # fmt: skip


async def segment_with_members(
    db: Db, segment_id: str, first: int, after: str | None,
    columns_of: Mapping[str, Sequence[str]] | None,
) -> tuple[SegmentRecord, Page[Member], tuple[str, ...]] | None:  # fmt: skip
    """The segment and a page of its members (as `list_members`) in one round trip; None for
    an unknown segment. The page's members carry the columns `columns_of` gives for the
    segment's audience (none without `columns_of`), which are returned beside them.
    Raises InvalidCursor."""
    scope = f"members:{segment_id}"
    pos = decode_cursor(scope, after) if after else None
    params = {"id": segment_id, "after": pos.key if pos else None, "limit": first + 1,
              "columnsOf": {k: list(v) for k, v in (columns_of or {}).items()}}  # fmt: skip

    def columns(record: Record) -> tuple[str, ...]:
        return tuple((columns_of or {}).get(record["seg"]["audience"], ()))

    query = _SEGMENT_QUERIES[pos is not None, columns_of is not None]
    read = await _checked_read(db, query, params, first, pos is None, columns)
    if read is None:
        return None
    record = read[0]
    page = await _as_page(db, segment_id, scope, first, *read)
    return to_segment(record["seg"]), page, columns(record)


async def _checked_read(
    db: Db, query: LiteralString, params: dict[str, Any], first: int, first_page: bool,
    columns_of: Callable[[Record], Sequence[str] | None],
) -> tuple[Record, list[Member]] | None:  # fmt: skip
    """The one record of a page query and its members, checked like every version scan
    (server.store.version_scan: keys in order after the cursor; a page holding the whole
    version as many as the version's count) and read again while it fails; None when the
    segment does not exist."""

    async def read() -> Record | None:
        records = await db.read(query, **params)
        return records[0] if records else None

    async def check(record: Record | None) -> Checked:
        if record is None:
            return None, None
        whole = first_page and len(record["page"]) <= first
        keys = [r["key"] for r in record["page"]]
        return record["v"], check_keys(keys, after=params["after"],
                                       count=record["n"] if whole else None)  # fmt: skip

    record = await checked_read("member page", params["id"], read, check)
    if record is None:
        return None
    return record, [_member(r, columns_of(record)) for r in record["page"]]


async def _as_page(
    db: Db, segment_id: str, scope: str, first: int, record: Record, found: list[Member]
) -> Page[Member]:
    total = record["n"]
    if total is None:  # no writer has kept a count yet: count this version once

        async def count(tx: Tx) -> int:
            return await _count(tx, segment_id, Active(int(record["v"]), None))

        total = await db.read_tx(count)
    members = tuple(found[:first])
    return Page(
        items=members,
        cursors=tuple(encode_cursor(scope, m.key, str(m.key)) for m in members),
        has_next=len(found) > first,
        total=total,
    )


@dataclass(frozen=True, slots=True)
class MemberChange:
    version: int
    changed: tuple[str | int, ...]  # keys added, or keys removed
    unknown: tuple[str | int, ...]  # keys no profile has (adds) or no member has (removes)


class SegmentBusy(Exception):
    """A refresh holds a live claim on the segment: a manual edit now would race it."""


async def _next_version(tx: Tx, segment_id: str) -> tuple[int, int]:
    """Lock the segment and hand out the next version: (current active, new).

    First undoes what an aborted refresh left beyond the active version, so the new version
    never adopts a crashed run's half-written memberships. Raises SegmentBusy while a refresh
    holds a live claim, NotFound.
    """
    if not await discard_aborted_versions(tx, segment_id):
        raise SegmentBusy(segment_id)
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


async def _switch(tx: Tx, segment_id: str, version: int, delta: int, now: datetime) -> None:
    """Make `version` active with its member count: the kept count moved by `delta`, or a
    count of the version where none was kept yet."""
    await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) "
        "CALL (s) { WITH s WHERE s.memberCount IS NULL "
        "  MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND " + member_at("$v")
        + " RETURN count(m) AS counted } "
        "SET s.activeVersion = $v, s.updatedAt = $now, "
        "    s.memberCount = coalesce(s.memberCount + $delta, counted)",
        id=segment_id,
        v=version,
        delta=delta,
        now=now,
    )


async def add_members(
    db: Db, segment_id: str, audience: Entity, keys: list[str | int], now: datetime
) -> MemberChange:
    """Add profiles by key as a new membership version. Raises NotFound, SegmentBusy."""
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
            "  WHERE " + member_at("$cur") + " } AS member "
            "CALL (s, key, p, member) { WITH * WHERE p IS NOT NULL AND NOT member "
            "  CREATE (s)-[:_MEMBER {segmentId: s.id, key: key, since: $v}]->(p) } "
            "RETURN key, p IS NULL AS unknown, member",
            id=segment_id,
            keys=keys,
            cur=cur,
            v=v,
        )
        added = tuple(r["key"] for r in found if not r["unknown"] and not r["member"])
        await _switch(tx, segment_id, v, len(added), now)
        return MemberChange(v, added, tuple(r["key"] for r in found if r["unknown"]))

    return await db.write(work)


async def remove_members(
    db: Db, segment_id: str, keys: list[str | int], now: datetime
) -> MemberChange:
    """Remove members by key as a new membership version. Raises NotFound, SegmentBusy."""

    async def work(tx: Tx) -> MemberChange:
        cur, v = await _next_version(tx, segment_id)
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id})-[m:_MEMBER]->() "
            "WHERE m.segmentId = $id AND m.key IN $keys "
            "  AND " + member_at("$cur") + " "
            "SET m.until = $v RETURN m.key AS key",
            id=segment_id,
            keys=keys,
            cur=cur,
            v=v,
        )
        removed = tuple(r["key"] for r in found)
        await _switch(tx, segment_id, v, -len(removed), now)
        return MemberChange(v, removed, tuple(k for k in keys if k not in removed))

    return await db.write(work)


async def member_batches(db: Db, segment_id: str, batch_size: int) -> AsyncIterator[list[Member]]:
    """Every member of the version active when the export starts, in key order, a batch at a
    time (constant memory: each batch is one keyset query). Every batch reads that one
    version, so a switch during a long export cannot mix two versions in the file.

    Each batch is checked and read again like every version scan (server.store.version_scan),
    and the batches must add up to the version's count: raises ScanInconsistent when they do
    not (at the end: the batches already handed on cannot be taken back)."""

    async def version(tx: Tx) -> Active | None:
        return await _active(tx, segment_id)

    active = await db.read_tx(version)
    if active is None:
        return
    chain = ScanChain("member export", segment_id, active.version, active.count)
    while True:

        async def batch(tx: Tx, after: str | int | None = chain.last) -> list[Member]:
            assert active is not None
            return await _page(tx, segment_id, active.version, after, batch_size)

        async def read() -> list[Member]:
            return await db.read_tx(batch)

        async def check(found: list[Member]) -> Checked:
            return await chain.check([m.key for m in found])

        found = await checked_read("member export", segment_id, read, check)
        chain.accept([m.key for m in found])
        if found:
            yield found
        if len(found) < batch_size:
            await chain.finish(db)
            return


async def is_member(db: Db, segment_id: str, key: str | int) -> bool:
    """Whether `key` is in the active version (one seek on the (segmentId, key) index)."""

    async def work(tx: Tx) -> bool:
        active = await _active(tx, segment_id)
        if active is None or active.version == 0:
            return False
        found = await rows(
            tx,
            "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.key = $key"
            " AND " + member_at("$v") + " RETURN count(m) AS n",
            id=segment_id, key=key, v=active.version,
        )  # fmt: skip
        return int(found[0]["n"]) > 0

    return await db.read_tx(work)


async def uncount_profiles(tx: Tx, entity: Entity, keys: Sequence[str | int]) -> None:
    """Lower the kept count of every segment whose active version holds one of these profiles,
    in the transaction that is about to delete them with their memberships (`DETACH DELETE`):
    member pages' totals stay exact instead of waiting for the segment's next refresh."""
    if not entity.profile or not keys:
        return  # memberships point at profiles only
    profile = f"(:{quote_identifier(entity.label)} {{{quote_identifier(entity.key)}: k}})"
    await rows(
        tx,
        f"UNWIND $keys AS k MATCH {profile}<-[m:_MEMBER]-(s:_Segment) "
        "WITH s, m, coalesce(s.activeVersion, 0) AS v "
        "WHERE s.memberCount IS NOT NULL AND " + member_at("v") + " "
        "WITH s, count(m) AS gone SET s.memberCount = s.memberCount - gone",
        keys=list(keys),
    )
