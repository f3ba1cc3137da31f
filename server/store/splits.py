"""Splits of a segment into groups, as properties of `_Segment` nodes:

    parent:  splitSeed                                        (one split per segment)
    group:   splitParentId, splitSeed, splitBuckets [start0, end0, ...], splitOrder
             and (group)-[:_DEPENDS_ON]->(parent), so delete guards and refresh order see it

A change is planned inside the transaction that writes it, after the parent is locked, so two
concurrent changes of one split never plan on the same state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from neo4j.exceptions import ConstraintError

from server.splits.buckets import Ranges, flatten
from server.store.db import Db, Tx, rows
from server.store.records import SegmentRecord
from server.store.segments import (
    NameTaken,
    NewDefinition,
    NewSegment,
    NotFound,
    create_in,
    to_segment,
)


@dataclass(frozen=True, slots=True)
class SplitState:
    """A parent and its groups (in split order), as read inside the writing transaction."""

    parent: SegmentRecord
    groups: tuple[SegmentRecord, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewGroup:
    segment: NewSegment
    definition: NewDefinition
    ranges: Ranges


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitChange:
    seed: str
    resized: Mapping[str, Ranges]  # group id -> its new buckets
    created: tuple[NewGroup, ...]  # appended after the existing groups, in this order


Planner = Callable[[SplitState], SplitChange]

_GROUPS = "MATCH (g:_Segment {splitParentId: $id}) RETURN g ORDER BY g.splitOrder, g.name"


async def _state(tx: Tx, parent_id: str) -> SplitState:
    # Setting a property takes the parent's write lock before anything is read.
    found = await rows(
        tx, "MATCH (s:_Segment {id: $id}) SET s.splitLock = 0 REMOVE s.splitLock RETURN s",
        id=parent_id,
    )  # fmt: skip
    if not found:
        raise NotFound(parent_id)
    groups = await rows(tx, _GROUPS, id=parent_id)
    return SplitState(to_segment(found[0]["s"]), tuple(to_segment(r["g"]) for r in groups))


async def read_split(db: Db, parent_id: str) -> SplitState | None:
    """The parent and its groups; None when no such segment exists."""

    async def work(tx: Tx) -> SplitState | None:
        found = await rows(tx, "MATCH (s:_Segment {id: $id}) RETURN s", id=parent_id)
        if not found:
            return None
        groups = await rows(tx, _GROUPS, id=parent_id)
        return SplitState(to_segment(found[0]["s"]), tuple(to_segment(r["g"]) for r in groups))

    return await db.read_tx(work)


async def change_split(
    db: Db, parent_id: str, plan: Planner, actor: str, now: datetime
) -> SplitState:
    """Lock the parent, plan the change on the current state, write it; returns the new state.
    Raises NotFound, NameTaken (a group's name was taken meanwhile), and what `plan` raises
    (nothing is written then)."""

    async def work(tx: Tx) -> SplitState:
        state = await _state(tx, parent_id)
        change = plan(state)
        await rows(tx, "MATCH (s:_Segment {id: $id}) SET s.splitSeed = $seed",
                   id=parent_id, seed=change.seed)  # fmt: skip
        for group_id, ranges in change.resized.items():
            await _set_group(tx, group_id, parent_id, change.seed, ranges, None, now)
        for order, new in enumerate(change.created, start=len(state.groups)):
            await create_in(tx, new.segment, new.definition, actor, now)
            await _set_group(tx, new.segment.id, parent_id, change.seed, new.ranges, order, now)
        return await _state(tx, parent_id)

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(str(exc)) from exc


async def _set_group(
    tx: Tx, group_id: str, parent_id: str, seed: str, ranges: Ranges, order: int | None,
    now: datetime,
) -> None:  # fmt: skip
    await rows(
        tx,
        "MATCH (g:_Segment {id: $id}) SET g.splitParentId = $parent, g.splitSeed = $seed, "
        "g.splitBuckets = $buckets, g.splitOrder = coalesce($order, g.splitOrder), "
        "g.updatedAt = $now",
        id=group_id, parent=parent_id, seed=seed, buckets=flatten(ranges), order=order, now=now,
    )  # fmt: skip
