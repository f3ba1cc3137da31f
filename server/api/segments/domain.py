"""Segment operations: check inputs and definitions, apply the draft and in-use rules, then
call the store. Returns `Outcome`s; user-fixable errors are problems, never exceptions."""

from __future__ import annotations

import uuid

from grammar.errors import did_you_mean
from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments import validation as v
from server.api.segments.commands import CreateSegment, DefinitionSource, Outcome, UpdateSegment
from server.api.segments.definition import BOTH_GIVEN, DefinitionCheck, check_definition
from server.store import segments as store
from server.store.records import (
    Diagnostic,
    ScheduleKind,
    SegmentRecord,
    SegmentState,
    SegmentType,
)
from server.store.segments import NameTaken, NewDefinition, NewSegment, NotFound

Code = UserErrorCode
Result = Outcome[SegmentRecord]


def not_found(field: tuple[str, ...] = ("id",)) -> Problem:
    return Problem(Code.NOT_FOUND, field, "no such segment")


def name_taken(field: tuple[str, ...]) -> Problem:
    return Problem(Code.NAME_TAKEN, field, "another segment has this name")


async def compile_definition(
    deps: Deps, source: DefinitionSource, kind: SegmentType, audience: str, timezone: str,
    segment_id: str | None = None,
) -> NewDefinition:  # fmt: skip
    """Compile and check what the definition reads: existing, valid segments, and no cycle."""
    blank = not (source.text or "").strip() and source.tree is None
    if kind is SegmentType.STATIC and blank:  # members chosen by hand: nothing to compile
        return NewDefinition(text="", json=None, valid=True, diagnostics=(), references=())
    check = check_definition(
        source.text, source.tree, deps.schema, audience=audience, timezone=timezone,
        now=deps.clock(), allow_pii=deps.principal.reads_pii,
    )  # fmt: skip
    problems = list(check.diagnostics) + await reference_problems(deps, check, segment_id)
    if kind is SegmentType.COMPOUND and check.valid and not check.references:
        problems.append(Diagnostic(code="COMPOUND_NEEDS_SEGMENTS", message="no segment used"))
    kept = check.refused(tuple(problems)) if problems else check
    return NewDefinition(
        text=kept.text, json=check.json, valid=kept.valid,
        diagnostics=kept.diagnostics, references=check.references,
    )  # fmt: skip


async def reference_problems(
    deps: Deps, check: DefinitionCheck, segment_id: str | None
) -> list[Diagnostic]:
    """What is wrong with the segments a compiled definition reads, each placed at its first
    `in segment` when the definition is text."""
    names = check.references
    if not names:
        return []
    found = await store.find_names(deps.db, list(names))
    problems = []
    missing = [n for n in names if n not in found]
    known = await store.segment_names(deps.db) if missing else []
    for name in missing:
        close = did_you_mean(name, known)
        hint = f" Did you mean `{close}`?" if close else ""
        message = f"no segment named {name}.{hint}"
        problems.append(check.at_reference(name, "UNKNOWN_SEGMENT", message))
    problems += [
        check.at_reference(s.name, "SEGMENT_NOT_VALID", f"segment {s.name} is a draft or invalid")
        for s in found.values()
        if not s.valid
    ]
    if segment_id and await store.reaches(deps.db, list(names), segment_id):
        problems.append(
            Diagnostic(code="DEPENDENCY_CYCLE", message="segments would read each other")
        )
    return problems


def _create_problems(deps: Deps, c: CreateSegment) -> list[Problem]:
    f = ("input",)
    schedule = c.schedule.kind if c.schedule else _default_schedule(c.type)
    return [
        *v.check_name(c.name, (*f, "name")),
        *v.check_text(c.display_name or "", (*f, "displayName"), 200),
        *v.check_text(c.description, (*f, "description")),
        *v.check_type(c.type, (*f, "type")),
        *v.check_audience(deps.schema, c.audience, (*f, "audience")),
        *v.check_timezone(c.timezone, (*f, "timezone")),
        *v.check_schedule(
            c.type, schedule, c.schedule.cron if c.schedule else None, (*f, "schedule")
        ),
        *_one_form(c.definition),
    ]


def _one_form(source: DefinitionSource | None) -> list[Problem]:
    """A definition comes as text or as JSON: with both, which one was meant is unknown."""
    if source is None or not source.both:
        return []
    return [Problem(Code.INVALID_VALUE, ("input", "definition"), BOTH_GIVEN)]


def _default_schedule(kind: SegmentType) -> ScheduleKind:
    return ScheduleKind.MANUAL if kind is SegmentType.STATIC else ScheduleKind.SYSTEM


async def create_segment(deps: Deps, c: CreateSegment) -> Result:
    """Create a segment; a definition that does not compile is saved as a draft (dynamic) or
    inactive (static) with its diagnostics."""
    tags, tag_problems = v.normalize_tags(c.tags, ("input", "tags"))
    problems = _create_problems(deps, c) + tag_problems
    if problems:
        return Outcome.fail(*problems)
    audience = deps.schema.require_entity(c.audience).name
    definition = await compile_definition(deps, c.definition, c.type, audience, c.timezone)
    active = definition.valid and c.activate
    new = NewSegment(
        id=str(uuid.uuid4()), name=c.name, display_name=c.display_name or c.name,
        description=c.description, type=c.type, audience=audience,
        state=SegmentState.ACTIVE if active else SegmentState.INACTIVE, tags=tags,
        timezone=c.timezone,
        schedule_kind=c.schedule.kind if c.schedule else _default_schedule(c.type),
        schedule_cron=c.schedule.cron if c.schedule else None,
    )  # fmt: skip
    try:
        return Outcome(
            await store.create_segment(deps.db, new, definition, deps.actor, deps.clock())
        )
    except NameTaken:
        return Outcome.fail(name_taken(("input", "name")))


async def get(deps: Deps, segment_id: str) -> SegmentRecord | None:
    return (await store.get_segments(deps.db, [segment_id]))[0]


def _update_problems(deps: Deps, u: UpdateSegment, seg: SegmentRecord) -> list[Problem]:
    f = ("input",)
    problems = [
        *v.check_text(u.display_name or "", (*f, "displayName"), 200),
        *v.check_text(u.description or "", (*f, "description")),
        *v.check_timezone(u.timezone or seg.timezone, (*f, "timezone")),
    ]
    if u.schedule is not None:
        problems += v.check_schedule(seg.type, u.schedule.kind, u.schedule.cron, (*f, "schedule"))
    return problems + _one_form(u.definition)


async def update_segment(deps: Deps, u: UpdateSegment) -> Result:
    """Change properties; a new definition becomes the next version. An invalid definition
    makes the segment inactive (a draft if dynamic); a valid one revives a draft."""
    seg = await get(deps, u.id)
    if seg is None:
        return Outcome.fail(not_found(("input", "id")))
    problems = _update_problems(deps, u, seg)
    if u.definition is not None:
        problems += v.check_not_split_group(seg, ("input", "definition"), "redefined")
        if seg.type is SegmentType.EXPANSION:  # its settings, not a definition, say who is in
            message = "an expansion segment is not defined in the language; create another"
            problems.append(Problem(Code.UNSUPPORTED_TYPE, ("input", "definition"), message))
    if problems:
        return Outcome.fail(*problems)
    props: dict[str, object] = {}
    if u.display_name is not None:
        props["displayName"] = u.display_name or seg.name
    if u.description is not None:
        props["description"] = u.description
    if u.timezone is not None:
        props["timezone"] = u.timezone
    if u.schedule is not None:
        props |= {"scheduleKind": u.schedule.kind.value, "scheduleCron": u.schedule.cron}
    try:
        if props:
            seg = await store.set_properties(deps.db, seg.id, props, deps.clock())
        if u.definition is not None:
            seg = await _save_definition(deps, seg, u.definition)
    except NotFound:
        return Outcome.fail(not_found(("input", "id")))
    return Outcome(seg)


async def _save_definition(
    deps: Deps, seg: SegmentRecord, source: DefinitionSource
) -> SegmentRecord:
    definition = await compile_definition(
        deps, source, seg.type, seg.audience, seg.timezone, segment_id=seg.id
    )
    if not definition.valid:
        state = SegmentState.INACTIVE
    elif not seg.valid:
        state = SegmentState.ACTIVE  # a fixed draft is processed, as the reference product does
    else:
        state = seg.state
    return await store.save_definition(deps.db, seg.id, definition, state, deps.actor, deps.clock())
