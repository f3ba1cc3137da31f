"""Export operations: check the wanted state against the segments, schema and export root,
then call the exports store; runs are handed to the workers. Returns `Outcome`s."""

from __future__ import annotations

import uuid
from dataclasses import replace

from server.api.context import Deps
from server.api.errors import ApiError, ErrorCode, Problem, UserErrorCode
from server.api.exports import validation as v
from server.api.exports.commands import ExportChanges, ExportSpec
from server.api.segments.commands import Outcome
from server.api.segments.reading import page_size
from server.api.segments.validation import check_name, check_text
from server.exports import runs, store
from server.exports.jobs import Requested, request_export_run
from server.exports.records import ExportRecord, ExportRunRecord, ExportState, NewExport
from server.exports.store import NameTaken, NotFound
from server.store.pages import InvalidCursor
from server.store.records import Page
from server.store.segments import get_segments

Code = UserErrorCode
Result = Outcome[ExportRecord]
INPUT = ("input",)


def not_found(field: tuple[str, ...] = ("id",)) -> Problem:
    return Problem(Code.NOT_FOUND, field, "no such export")


async def _check(deps: Deps, spec: ExportSpec) -> tuple[ExportSpec, list[Problem]]:
    """The spec with its columns in the schema's spelling, and what is wrong with it."""
    found = await get_segments(deps.db, list(spec.segment_ids)) if spec.segment_ids else []
    problems = [
        *check_name(spec.name, (*INPUT, "name")),
        *check_text(spec.description, (*INPUT, "description")),
        *v.check_segments(spec.segment_ids, found, (*INPUT, "segmentIds")),
        *v.check_destination(spec.destination, deps.export_root, (*INPUT, "destination")),
        *v.check_trigger(spec.trigger, (*INPUT, "trigger")),
    ]
    problems += await v.check_destination_url(spec.destination, deps.outgoing,
                                              (*INPUT, "destination"))  # fmt: skip
    audience = next((s.audience for s in found if s is not None), None)
    entity = deps.schema.entity(audience) if audience else None
    if entity is None:
        return spec, problems
    columns, column_problems = v.check_columns(entity, spec.columns, (*INPUT, "columns"))
    if not deps.principal.reads_pii:
        column_problems += v.check_pii_columns(entity, columns, (*INPUT, "columns"))
    return replace(spec, columns=columns), problems + column_problems


def _new(export_id: str, spec: ExportSpec) -> NewExport:
    return NewExport(
        id=export_id, name=spec.name, description=spec.description,
        state=ExportState.ACTIVE if spec.active else ExportState.INACTIVE,
        destination=spec.destination, columns=spec.columns, trigger=spec.trigger,
        segment_ids=spec.segment_ids,
    )  # fmt: skip


async def create_export(deps: Deps, spec: ExportSpec) -> Result:
    checked, problems = await _check(deps, spec)
    if problems:
        return Outcome.fail(*problems)
    try:
        new = _new(str(uuid.uuid4()), checked)
        return Outcome(await store.create_export(deps.db, new, deps.actor, deps.clock()))
    except NameTaken:
        return Outcome.fail(Problem(Code.NAME_TAKEN, (*INPUT, "name"), "another export has it"))
    except NotFound:
        return Outcome.fail(Problem(Code.NOT_FOUND, (*INPUT, "segmentIds"), "a segment is gone"))


def _merged(old: ExportRecord, c: ExportChanges) -> ExportSpec:
    columns = old.columns if c.columns is None else (c.columns or None)
    return ExportSpec(
        name=c.name if c.name is not None else old.name,
        description=c.description if c.description is not None else old.description,
        segment_ids=c.segment_ids if c.segment_ids is not None
        else tuple(s.id for s in old.segments),
        columns=columns, destination=c.destination or old.destination,
        trigger=c.trigger or old.trigger,
        active=c.active if c.active is not None else old.state is ExportState.ACTIVE,
    )  # fmt: skip


async def update_export(deps: Deps, c: ExportChanges) -> Result:
    old = await get(deps, c.id)
    if old is None:
        return Outcome.fail(not_found((*INPUT, "id")))
    checked, problems = await _check(deps, _merged(old, c))
    if problems:
        return Outcome.fail(*problems)
    try:
        return Outcome(await store.update_export(deps.db, _new(old.id, checked), deps.clock()))
    except NameTaken:
        return Outcome.fail(Problem(Code.NAME_TAKEN, (*INPUT, "name"), "another export has it"))
    except NotFound:
        return Outcome.fail(not_found((*INPUT, "id")))


async def delete_export(deps: Deps, export_id: str) -> Outcome[bool]:
    """Delete the export and its run history; files already written stay."""
    if not await store.delete_export(deps.db, export_id):
        return Outcome.fail(not_found())
    return Outcome(True)


async def run_export(deps: Deps, export_id: str) -> Outcome[Requested]:
    """Queue a run now; while one is queued or running, that one is returned instead."""
    found = await request_export_run(deps.redis, deps.db, export_id, "MANUAL", deps.clock())
    return Outcome(found) if found else Outcome.fail(not_found())


async def get(deps: Deps, export_id: str) -> ExportRecord | None:
    return (await store.get_exports(deps.db, [export_id]))[0]


async def by_name(deps: Deps, name: str) -> ExportRecord | None:
    return await store.get_export_by_name(deps.db, name)


async def list_exports(deps: Deps, first: int | None, after: str | None) -> Page[ExportRecord]:
    try:
        return await store.list_exports(deps.db, page_size(deps, first), after)
    except InvalidCursor as exc:
        raise ApiError(ErrorCode.INVALID_CURSOR, str(exc)) from exc


async def of_segment(deps: Deps, segment_id: str) -> list[ExportRecord]:
    return await store.exports_of_segment(deps.db, segment_id)


async def list_runs(deps: Deps, export_id: str, first: int) -> list[ExportRunRecord]:
    return await runs.list_runs(deps.db, export_id, min(max(first, 0), deps.max_page_size))
