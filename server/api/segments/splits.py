"""Splits for campaign tests: a segment's members divided by percentages into stable random
groups (A/B groups, a holdout), each a segment of its own (COMPOUND, read from the parent).

Inputs are checked here; bucket ranges are planned (server.splits.allocation) inside the
store's transaction, on the split as it is when the parent is locked.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments import validation as v
from server.api.segments.commands import DefinitionSource, Outcome
from server.api.segments.domain import compile_definition, get, not_found
from server.splits.allocation import allocate, buckets_for
from server.splits.buckets import BUCKETS, size
from server.store import segments as store
from server.store import splits
from server.store.records import ScheduleKind, SegmentRecord, SegmentState, SegmentType
from server.store.segments import NameTaken, NewDefinition, NewSegment, NotFound
from server.store.splits import NewGroup, SplitChange, SplitState

Code = UserErrorCode
MAX_GROUPS = 20
SEED = re.compile(r"^[\x21-\x7e]{1,64}$")  # printable ASCII, no spaces
GROUPS = ("input", "groups")


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSpec:
    name: str
    display_name: str | None
    percent: float


@dataclass(frozen=True, slots=True)
class SplitView:
    parent: SegmentRecord
    seed: str
    groups: tuple[SegmentRecord, ...]


class _Refused(Exception):
    def __init__(self, *problems: Problem) -> None:
        self.problems = problems


async def split_segment(
    deps: Deps, parent_id: str, seed: str | None, groups: Sequence[GroupSpec]
) -> Outcome[SplitView]:
    """Split a segment into new group segments. Refused for a missing, draft or already split
    segment, a group of a split, bad or taken names, and percentages above 100 in total."""
    problems = _input_problems(groups, seed)
    parent = await get(deps, parent_id)
    if parent is None:
        return Outcome.fail(*problems, not_found(("input", "segment")))
    problems += _parent_problems(parent) + await _taken(deps, groups)
    if problems:
        return Outcome.fail(*problems)
    definition = await _group_definition(deps, parent)
    chosen = seed or secrets.token_hex(8)

    def plan(state: SplitState) -> SplitChange:
        if found := _parent_problems(state.parent):  # changed since the checks above
            raise _Refused(*found)
        ranges = allocate({}, _wanted(groups))
        made = _new_groups(state.parent, groups, definition, ranges)
        return SplitChange(seed=chosen, resized={}, created=made)

    return await _apply(deps, parent.id, plan)


async def update_split(
    deps: Deps, segment_id: str, groups: Sequence[GroupSpec]
) -> Outcome[SplitView]:
    """Change the percentages of a split's groups (named by name; others keep theirs) and add
    groups under new names; the seed stays. Only the buckets that change hands move profiles.
    `segment_id` is the parent or any of its groups."""
    problems = _input_problems(groups, None)
    seg = await get(deps, segment_id)
    if seg is None:
        return Outcome.fail(*problems, not_found(("input", "segment")))
    parent_id = seg.split_group.parent_id if seg.split_group else seg.id
    state = await splits.read_split(deps.db, parent_id)
    if state is None or state.parent.split_seed is None:
        message = "the segment is not split; split it with splitSegment"
        return Outcome.fail(*problems, Problem(Code.NOT_SPLIT, ("input", "segment"), message))
    existing = {g.name for g in state.groups}
    problems += await _taken(deps, [g for g in groups if g.name not in existing])
    if problems:
        return Outcome.fail(*problems)
    definition = await _group_definition(deps, state.parent)

    def plan(now: SplitState) -> SplitChange:
        current = {g.name: g.split_group.ranges for g in now.groups if g.split_group}
        wanted = _wanted(groups)
        kept = sum(size(r) for name, r in current.items() if name not in wanted)
        if kept + sum(wanted.values()) > BUCKETS:
            raise _Refused(_over_100())
        ranges = allocate(current, wanted)
        ids = {g.name: g.id for g in now.groups}
        resized = {ids[n]: ranges[n] for n in wanted if n in ids and ranges[n] != current[n]}
        new = [g for g in groups if g.name not in ids]
        made = _new_groups(now.parent, new, definition, ranges)
        return SplitChange(seed=now.parent.split_seed or "", resized=resized, created=made)

    return await _apply(deps, parent_id, plan)


async def get_split(deps: Deps, seg: SegmentRecord) -> SplitView | None:
    """The split a segment heads or belongs to; None when there is none."""
    parent_id = seg.split_group.parent_id if seg.split_group else seg.id
    if seg.split_group is None and seg.split_seed is None:
        return None
    state = await splits.read_split(deps.db, parent_id)
    return _view(state) if state else None


def _view(state: SplitState) -> SplitView | None:
    seed = state.parent.split_seed
    return SplitView(state.parent, seed, state.groups) if seed is not None else None


async def _apply(deps: Deps, parent_id: str, plan: splits.Planner) -> Outcome[SplitView]:
    try:
        state = await splits.change_split(deps.db, parent_id, plan, deps.actor, deps.clock())
    except _Refused as refused:
        return Outcome.fail(*refused.problems)
    except NotFound:
        return Outcome.fail(not_found(("input", "segment")))
    except NameTaken:
        return Outcome.fail(Problem(Code.NAME_TAKEN, GROUPS, "a group's name was taken meanwhile"))
    view = _view(state)
    assert view is not None  # the change set the seed
    return Outcome(view)


def _input_problems(groups: Sequence[GroupSpec], seed: str | None) -> list[Problem]:
    problems: list[Problem] = []
    if not 1 <= len(groups) <= MAX_GROUPS:
        problems.append(Problem(Code.LIMIT_EXCEEDED, GROUPS, f"give 1 to {MAX_GROUPS} groups"))
    seen: set[str] = set()
    for i, group in enumerate(groups):
        at = (*GROUPS, str(i))
        problems += v.check_name(group.name, (*at, "name"))
        if group.name.casefold() in seen:
            problems.append(Problem(Code.NAME_TAKEN, (*at, "name"), "the name is given twice"))
        seen.add(group.name.casefold())
        problems += v.check_text(group.display_name or "", (*at, "displayName"), 200)
        if buckets_for(group.percent) is None:
            message = "a percentage from 0 to 100 with at most one decimal"
            problems.append(Problem(Code.INVALID_VALUE, (*at, "percent"), message))
    if not problems and sum(_wanted(groups).values()) > BUCKETS:
        problems.append(_over_100())
    if seed is not None and not SEED.match(seed):
        message = "1 to 64 printable ASCII characters without spaces"
        problems.append(Problem(Code.INVALID_VALUE, ("input", "seed"), message))
    return problems


def _over_100() -> Problem:
    return Problem(Code.SPLIT_OVER_100, GROUPS, "the groups' percentages add up to over 100")


def _parent_problems(parent: SegmentRecord) -> list[Problem]:
    field = ("input", "segment")
    if problems := v.check_not_split_group(parent, field, "split again"):
        return problems
    if parent.split_seed is not None:
        message = "the segment is already split; change its groups with updateSplit"
        return [Problem(Code.ALREADY_SPLIT, field, message)]
    if not parent.valid:
        message = "the segment's definition does not compile (a draft); fix it first"
        return [Problem(Code.DEFINITION_INVALID, field, message)]
    return []


async def _taken(deps: Deps, groups: Sequence[GroupSpec]) -> list[Problem]:
    found = await store.find_names(deps.db, [g.name for g in groups])
    return [
        Problem(Code.NAME_TAKEN, (*GROUPS, str(i), "name"), "another segment has this name")
        for i, g in enumerate(groups)
        if g.name in found
    ]


def _wanted(groups: Sequence[GroupSpec]) -> dict[str, int]:
    return {g.name: buckets_for(g.percent) or 0 for g in groups}


async def _group_definition(deps: Deps, parent: SegmentRecord) -> NewDefinition:
    """What a group reads, as a definition: the parent (the split picks among its members)."""
    source = DefinitionSource(text=f"segment {parent.audience} where in segment {parent.name}")
    return await compile_definition(
        deps, source, SegmentType.COMPOUND, parent.audience, parent.timezone
    )


def _new_groups(
    parent: SegmentRecord, groups: Sequence[GroupSpec], definition: NewDefinition,
    ranges: dict[str, tuple[tuple[int, int], ...]],
) -> tuple[NewGroup, ...]:  # fmt: skip
    return tuple(
        NewGroup(segment=_new_segment(parent, g), definition=definition, ranges=ranges[g.name])
        for g in groups
    )


def _new_segment(parent: SegmentRecord, g: GroupSpec) -> NewSegment:
    # MANUAL: a group refreshes with its parent (any refresh of the parent brings its groups).
    return NewSegment(
        id=str(uuid.uuid4()), name=g.name, display_name=g.display_name or g.name,
        description=f"A group of the split of {parent.name}", type=SegmentType.COMPOUND,
        audience=parent.audience, state=SegmentState.ACTIVE, tags=(), timezone=parent.timezone,
        schedule_kind=ScheduleKind.MANUAL, schedule_cron=None,
    )  # fmt: skip
