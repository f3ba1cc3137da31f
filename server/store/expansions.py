"""Expansion segments in the store: a `_Segment` of type EXPANSION whose `expansion` property
holds its settings (JSON, read by the refresh engine), created with its definition (the same
settings, versioned) and its `_DEPENDS_ON` links to the source and population segments."""

from __future__ import annotations

from datetime import datetime

from neo4j.exceptions import ConstraintError

from server.store.db import Db, Tx, rows
from server.store.records import SegmentRecord
from server.store.segments import NameTaken, NewDefinition, NewSegment, create_in


async def create_expansion(
    db: Db, new: NewSegment, definition: NewDefinition, settings: str, actor: str,
    now: datetime,
) -> SegmentRecord:  # fmt: skip
    """Create the segment, its definition and links in one transaction. Raises NameTaken."""

    async def work(tx: Tx) -> SegmentRecord:
        created = await create_in(tx, new, definition, actor, now)
        await rows(tx, "MATCH (s:_Segment {id: $id}) SET s.expansion = $settings",
                   id=new.id, settings=settings)  # fmt: skip
        return created

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(str(exc)) from exc
