"""Export mutations: decode ids, call the domain, wrap the outcome in a payload."""

from __future__ import annotations

import strawberry

from server.access import Permission
from server.api.common import UserError, decode_gid, mutation, user_errors
from server.api.context import Info
from server.api.exports import domain
from server.api.exports.inputs import CreateExportInput, UpdateExportInput
from server.api.exports.types import Export, ExportRun
from server.api.segments.commands import Outcome
from server.exports.records import ExportRecord


@strawberry.type
class ExportPayload:
    export: Export | None
    user_errors: list[UserError]

    @staticmethod
    def of(outcome: Outcome[ExportRecord]) -> ExportPayload:
        found = Export.of(outcome.value) if outcome.value else None
        return ExportPayload(export=found, user_errors=user_errors(outcome.problems))


@strawberry.type
class DeleteExportPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class RunExportPayload:
    run: ExportRun | None
    queued: bool = strawberry.field(
        description="False when a queued or running run absorbed the request (a double-click)."
    )
    user_errors: list[UserError]


def _bad_id(field: tuple[str, ...] = ("id",)) -> list[UserError]:
    return user_errors([domain.not_found(field)])


@strawberry.type
class ExportMutations:
    @mutation(
        "Create an export: segments with chosen columns to a destination.",
        requires=Permission.MANAGE_EXPORTS,
    )
    async def create_export(self, info: Info, input: CreateExportInput) -> ExportPayload:
        return ExportPayload.of(await domain.create_export(info.context.deps, input.to_spec()))

    @mutation(
        "Change an export; fields left out stay as they are.", requires=Permission.MANAGE_EXPORTS
    )
    async def update_export(self, info: Info, input: UpdateExportInput) -> ExportPayload:
        export_id = decode_gid(input.id, "Export")
        if export_id is None:
            return ExportPayload(export=None, user_errors=_bad_id(("input", "id")))
        changes = input.to_changes(export_id)
        return ExportPayload.of(await domain.update_export(info.context.deps, changes))

    @mutation(
        "Delete an export and its run history (files written stay).",
        requires=Permission.MANAGE_EXPORTS,
    )
    async def delete_export(self, info: Info, id: strawberry.ID) -> DeleteExportPayload:
        export_id = decode_gid(id, "Export")
        if export_id is None:
            return DeleteExportPayload(deleted_id=None, user_errors=_bad_id())
        outcome = await domain.delete_export(info.context.deps, export_id)
        deleted = id if outcome.value else None
        return DeleteExportPayload(deleted_id=deleted, user_errors=user_errors(outcome.problems))

    @mutation(
        "Run an export now on the workers; returns the queued (or pending) run.",
        requires=Permission.MANAGE_EXPORTS,
    )
    async def run_export(self, info: Info, id: strawberry.ID) -> RunExportPayload:
        export_id = decode_gid(id, "Export")
        if export_id is None:
            return RunExportPayload(run=None, queued=False, user_errors=_bad_id())
        outcome = await domain.run_export(info.context.deps, export_id)
        done = outcome.value
        return RunExportPayload(
            run=ExportRun.of(done.run) if done else None,
            queued=done.created if done else False,
            user_errors=user_errors(outcome.problems),
        )
