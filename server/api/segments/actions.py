"""The segment page's actions besides create and update: state, rename, duplicate, delete,
tags, static members and external usages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments import validation as v
from server.api.segments.commands import Outcome
from server.api.segments.domain import Result, get, name_taken, not_found
from server.store import definitions, lifecycle, members, usage
from server.store import segments as store
from server.store.records import (
    ConsumerKind,
    Dependent,
    SegmentRecord,
    SegmentState,
    SegmentType,
    UsageRecord,
)
from server.store.segments import NameTaken, NotFound

Code = UserErrorCode
MAX_KEYS = 10_000


async def set_state(deps: Deps, segment_id: str, state: SegmentState) -> Result:
    """Activate or deactivate; activating a segment whose definition does not compile is
    refused until it is fixed."""
    seg = await get(deps, segment_id)
    if seg is None:
        return Outcome.fail(not_found())
    if state is SegmentState.ACTIVE and not seg.valid:
        message = "the definition does not compile; fix it before activating"
        return Outcome.fail(Problem(Code.DEFINITION_INVALID, ("id",), message))
    return await _set(deps, segment_id, {"state": state.value})


async def _set(deps: Deps, segment_id: str, props: dict[str, object]) -> Result:
    try:
        return Outcome(await store.set_properties(deps.db, segment_id, props, deps.clock()))
    except NotFound:
        return Outcome.fail(not_found())
    except NameTaken:
        return Outcome.fail(name_taken(("name",)))


async def make_static(deps: Deps, segment_id: str) -> Result:
    """Static segments change only when asked: the schedule becomes MANUAL."""
    seg = await get(deps, segment_id)
    if seg is None:
        return Outcome.fail(not_found())
    if seg.type is SegmentType.EXPANSION:
        message = "expansion segments are filled by the scoring engine"
        return Outcome.fail(Problem(Code.UNSUPPORTED_TYPE, ("id",), message))
    if problems := v.check_not_split_group(seg, ("id",), "made static"):
        return Outcome.fail(*problems)
    props: dict[str, object] = {"type": "STATIC", "scheduleKind": "MANUAL", "scheduleCron": None}
    return await _set(deps, segment_id, props)


async def make_dynamic(deps: Deps, segment_id: str) -> Result:
    """Dynamic segments refresh with the system; they need a definition to evaluate."""
    seg = await get(deps, segment_id)
    if seg is None:
        return Outcome.fail(not_found())
    if seg.type is not SegmentType.STATIC:
        return Outcome(seg)
    definition = await definitions.get_definition(deps.db, seg.id, seg.definition_version)
    if definition is None or not definition.text.strip():
        message = "a dynamic segment needs a definition; save one with updateSegment first"
        return Outcome.fail(Problem(Code.DEFINITION_REQUIRED, ("id",), message))
    props: dict[str, object] = {"type": "DYNAMIC", "scheduleKind": "SYSTEM", "scheduleCron": None}
    return await _set(deps, segment_id, props)


async def set_tags(deps: Deps, segment_id: str, tags: list[str]) -> Result:
    clean, problems = v.normalize_tags(tags, ("tags",))
    if problems:
        return Outcome.fail(*problems)
    return await _set(deps, segment_id, {"tags": list(clean)})


async def rename(deps: Deps, segment_id: str, name: str) -> Result:
    """Rename, refused while other segments read this one by name in their definitions."""
    problems = v.check_name(name, ("name",))
    if problems:
        return Outcome.fail(*problems)
    readers = [d for d in await usage.list_dependents(deps.db, segment_id) if d.kind == "SEGMENT"]
    if readers:
        names = ", ".join(d.name for d in readers)
        message = f"segments {names} use this name in their definitions"
        return Outcome.fail(Problem(Code.SEGMENT_IN_USE, ("id",), message))
    return await _set(deps, segment_id, {"name": name})


async def duplicate(deps: Deps, segment_id: str, name: str, display_name: str | None) -> Result:
    problems = v.check_name(name, ("name",))
    source = await get(deps, segment_id)
    if source is not None:
        problems += v.check_not_split_group(source, ("id",), "duplicated")
    if problems:
        return Outcome.fail(*problems)
    new_id = str(uuid.uuid4())
    try:
        copy = await lifecycle.duplicate_segment(
            deps.db, segment_id, new_id, name, display_name or name, deps.actor, deps.clock()
        )
    except NotFound:
        return Outcome.fail(not_found())
    except NameTaken:
        return Outcome.fail(name_taken(("name",)))
    return Outcome(copy)


@dataclass(frozen=True, slots=True)
class Deleted:
    deleted: bool
    dependents: tuple[Dependent, ...]


async def delete(deps: Deps, segment_id: str, force: bool) -> Outcome[Deleted]:
    """Delete, refused while something depends on the segment unless forced."""
    try:
        done = await lifecycle.delete_segment(deps.db, segment_id, force=force, now=deps.clock())
    except NotFound:
        return Outcome.fail(not_found())
    result = Deleted(done.deleted, done.dependents)
    if done.deleted:
        return Outcome(result)
    message = "the segment is in use; see dependents, or delete with force"
    return Outcome(result, (Problem(Code.SEGMENT_IN_USE, ("id",), message),))


@dataclass(frozen=True, slots=True)
class MembersChanged:
    segment: SegmentRecord
    changed: tuple[str, ...]
    unknown: tuple[str, ...]


async def _static(deps: Deps, segment_id: str, keys: list[str]) -> Outcome[SegmentRecord]:
    seg = await get(deps, segment_id)
    if seg is None:
        return Outcome.fail(not_found())
    if seg.type is not SegmentType.STATIC:
        message = "members are chosen by hand only in static segments"
        return Outcome.fail(Problem(Code.NOT_STATIC, ("id",), message))
    if len(keys) > MAX_KEYS:
        return Outcome.fail(Problem(Code.LIMIT_EXCEEDED, ("keys",), f"at most {MAX_KEYS} keys"))
    return Outcome(seg)


async def change_members(
    deps: Deps, segment_id: str, keys: list[str], *, add: bool
) -> Outcome[MembersChanged]:
    """Add or remove profiles of a static segment by key, as one new membership version."""
    found = await _static(deps, segment_id, keys)
    if found.value is None:
        return Outcome.fail(*found.problems)
    entity = deps.schema.require_entity(found.value.audience)
    converted, problems = v.convert_keys(entity, keys, ("keys",))
    if problems:
        return Outcome.fail(*problems)
    now = deps.clock()
    try:
        if add:
            change = await members.add_members(deps.db, segment_id, entity, converted, now)
        else:
            change = await members.remove_members(deps.db, segment_id, converted, now)
    except NotFound:
        return Outcome.fail(not_found())
    except members.SegmentBusy:
        message = "a refresh is writing this segment's members; try again when it finishes"
        return Outcome.fail(Problem(Code.SEGMENT_BUSY, ("id",), message))
    seg = await get(deps, segment_id)
    assert seg is not None
    return Outcome(MembersChanged(seg, _as_text(change.changed), _as_text(change.unknown)))


def _as_text(keys: tuple[str | int, ...]) -> tuple[str, ...]:
    return tuple(str(k) for k in keys)


async def register_usage(
    deps: Deps, segment_id: str, kind: ConsumerKind, consumer: str, description: str
) -> Outcome[UsageRecord]:
    """Record an external consumer (campaign, journey, ...) so deletes are guarded."""
    problems = v.check_text(consumer, ("input", "consumer"), 200)
    if not consumer.strip():
        problems.append(Problem(Code.INVALID_VALUE, ("input", "consumer"), "name the consumer"))
    problems += v.check_text(description, ("input", "description"))
    if problems:
        return Outcome.fail(*problems)
    record = UsageRecord(
        id=str(uuid.uuid4()), segment_id=segment_id, kind=kind, consumer=consumer.strip(),
        description=description, created_at=deps.clock(), created_by=deps.actor,
    )  # fmt: skip
    saved = await usage.register_usage(deps.db, record, deps.clock())
    return Outcome(saved) if saved else Outcome.fail(not_found(("input", "segmentId")))


async def unregister_usage(deps: Deps, usage_id: str) -> Outcome[UsageRecord]:
    removed = await usage.unregister_usage(deps.db, usage_id)
    if removed is None:
        return Outcome.fail(Problem(Code.NOT_FOUND, ("id",), "no such usage"))
    return Outcome(removed)
