"""Segment mutations: decode ids, call the domain, wrap the outcome in a payload."""

from __future__ import annotations

import strawberry

from server.api.common import UserError, decode_gid, mutation, segment_gid, user_errors
from server.api.context import Info
from server.api.errors import Problem, UserErrorCode
from server.api.segments import actions, bulk, domain, refresh
from server.api.segments.commands import Outcome
from server.api.segments.inputs import CreateSegmentInput, RegisterUsageInput, UpdateSegmentInput
from server.api.segments.types import Segment, SegmentDependent, SegmentUsage
from server.store.records import SegmentRecord, SegmentState, UsageRecord


@strawberry.type
class SegmentPayload:
    segment: Segment | None
    user_errors: list[UserError]

    @staticmethod
    def of(outcome: Outcome[SegmentRecord]) -> SegmentPayload:
        seg = Segment.of(outcome.value) if outcome.value else None
        return SegmentPayload(segment=seg, user_errors=user_errors(outcome.problems))


@strawberry.type
class DeleteSegmentPayload:
    deleted_id: strawberry.ID | None
    dependents: list[SegmentDependent] = strawberry.field(
        description="What depends on the segment: why a delete was refused, or who lost an "
        "input in a forced delete."
    )
    user_errors: list[UserError]


@strawberry.type
class StaticMembersPayload:
    segment: Segment | None
    changed_keys: list[str] = strawberry.field(description="Keys added, or keys removed.")
    unknown_keys: list[str] = strawberry.field(description="Keys with no profile / no member.")
    user_errors: list[UserError]


@strawberry.type
class SegmentsPayload:
    segments: list[Segment]
    user_errors: list[UserError]

    @staticmethod
    def of(result: bulk.BulkResult) -> SegmentsPayload:
        segments = [Segment.of(s) for s in result.segments]
        return SegmentsPayload(segments=segments, user_errors=user_errors(result.problems))


@strawberry.type
class DeleteSegmentsPayload:
    deleted_ids: list[strawberry.ID]
    dependents: list[SegmentDependent]
    user_errors: list[UserError]


def _segment_ids(ids: list[strawberry.ID]) -> list[str]:
    # An id that is not a segment's becomes "" and is reported as NOT_FOUND at its index.
    return [decode_gid(i, "Segment") or "" for i in ids]


@strawberry.type
class RefreshSegmentsPayload:
    job_id: str | None = strawberry.field(description="The refresh job (deterministic id).")
    segments: list[Segment]
    user_errors: list[UserError]


@strawberry.type
class SegmentUsagePayload:
    usage: SegmentUsage | None
    user_errors: list[UserError]


def _bad_id(field: tuple[str, ...] = ("id",)) -> list[UserError]:
    return user_errors([Problem(UserErrorCode.NOT_FOUND, field, "no such segment")])


def _failed(field: tuple[str, ...] = ("id",)) -> SegmentPayload:
    return SegmentPayload(segment=None, user_errors=_bad_id(field))


@strawberry.type
class SegmentMutations:
    @mutation("Create a segment; an invalid definition saves a draft.")
    async def create_segment(self, info: Info, input: CreateSegmentInput) -> SegmentPayload:
        return SegmentPayload.of(await domain.create_segment(info.context.deps, input.to_command()))

    @mutation("Change properties; a definition becomes a new version.")
    async def update_segment(self, info: Info, input: UpdateSegmentInput) -> SegmentPayload:
        segment_id = decode_gid(input.id, "Segment")
        if segment_id is None:
            return _failed(("input", "id"))
        command = input.to_command(segment_id)
        return SegmentPayload.of(await domain.update_segment(info.context.deps, command))

    @mutation("Copy a segment's definition and settings under a new name.")
    async def duplicate_segment(
        self, info: Info, id: strawberry.ID, name: str, display_name: str | None = None
    ) -> SegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return _failed()
        deps = info.context.deps
        return SegmentPayload.of(await actions.duplicate(deps, segment_id, name, display_name))

    @mutation("Refused while other segments read it by name.")
    async def rename_segment(self, info: Info, id: strawberry.ID, name: str) -> SegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return _failed()
        return SegmentPayload.of(await actions.rename(info.context.deps, segment_id, name))

    @mutation("Refused while in use unless forced.")
    async def delete_segment(
        self, info: Info, id: strawberry.ID, force: bool = False
    ) -> DeleteSegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return DeleteSegmentPayload(deleted_id=None, dependents=[], user_errors=_bad_id())
        outcome = await actions.delete(info.context.deps, segment_id, force)
        done = outcome.value
        return DeleteSegmentPayload(
            deleted_id=id if done and done.deleted else None,
            dependents=[SegmentDependent.of(d) for d in done.dependents] if done else [],
            user_errors=user_errors(outcome.problems),
        )

    @mutation("Refused while the definition does not compile.")
    async def activate_segment(self, info: Info, id: strawberry.ID) -> SegmentPayload:
        return await _set_state(info, id, SegmentState.ACTIVE)

    @mutation("Inactive segments are skipped by scheduled refreshes.")
    async def deactivate_segment(self, info: Info, id: strawberry.ID) -> SegmentPayload:
        return await _set_state(info, id, SegmentState.INACTIVE)

    @mutation("Queue a refresh: one segment, or several in one pass in dependency order.")
    async def refresh_segments(
        self, info: Info, ids: list[strawberry.ID]
    ) -> RefreshSegmentsPayload:
        outcome = await refresh.refresh(info.context.deps, _segment_ids(ids))
        done = outcome.value
        return RefreshSegmentsPayload(
            job_id=done.job_id if done else None,
            segments=[Segment.of(s) for s in done.segments] if done else [],
            user_errors=user_errors(outcome.problems),
        )

    @mutation("Cancel a queued or running refresh; the active membership stays.")
    async def cancel_segment_refresh(self, info: Info, id: strawberry.ID) -> SegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return _failed()
        return SegmentPayload.of(await refresh.cancel(info.context.deps, segment_id))

    @mutation("Activate or deactivate many segments.")
    async def set_segments_state(
        self, info: Info, ids: list[strawberry.ID], state: SegmentState
    ) -> SegmentsPayload:
        result = await bulk.set_state(info.context.deps, _segment_ids(ids), state)
        return SegmentsPayload.of(result)

    @mutation("Add and remove tags on many segments.")
    async def edit_segments_tags(
        self, info: Info, ids: list[strawberry.ID], add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> SegmentsPayload:  # fmt: skip
        deps = info.context.deps
        result = await bulk.edit_tags(deps, _segment_ids(ids), add or [], remove or [])
        return SegmentsPayload.of(result)

    @mutation("Delete many segments; those in use are refused unless forced.")
    async def delete_segments(
        self, info: Info, ids: list[strawberry.ID], force: bool = False
    ) -> DeleteSegmentsPayload:
        result = await bulk.delete(info.context.deps, _segment_ids(ids), force)
        return DeleteSegmentsPayload(
            deleted_ids=[strawberry.ID(segment_gid(i)) for i in result.deleted],
            dependents=[SegmentDependent.of(d) for d in result.dependents],
            user_errors=user_errors(result.problems),
        )

    @mutation("Static: members change only when asked (schedule MANUAL).")
    async def make_segment_static(self, info: Info, id: strawberry.ID) -> SegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return _failed()
        return SegmentPayload.of(await actions.make_static(info.context.deps, segment_id))

    @mutation("Dynamic: refreshed with every system refresh; needs a definition.")
    async def make_segment_dynamic(self, info: Info, id: strawberry.ID) -> SegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return _failed()
        return SegmentPayload.of(await actions.make_dynamic(info.context.deps, segment_id))

    @mutation("Replace the segment's tags.")
    async def set_segment_tags(
        self, info: Info, id: strawberry.ID, tags: list[str]
    ) -> SegmentPayload:
        segment_id = decode_gid(id, "Segment")
        if segment_id is None:
            return _failed()
        return SegmentPayload.of(await actions.set_tags(info.context.deps, segment_id, tags))

    @mutation("Add profiles by key to a static segment.")
    async def add_static_members(
        self, info: Info, id: strawberry.ID, keys: list[str]
    ) -> StaticMembersPayload:
        return await _change_members(info, id, keys, add=True)

    @mutation("Remove profiles by key from a static segment.")
    async def remove_static_members(
        self, info: Info, id: strawberry.ID, keys: list[str]
    ) -> StaticMembersPayload:
        return await _change_members(info, id, keys, add=False)

    @mutation("Record an external consumer (guards deletes).")
    async def register_segment_usage(
        self, info: Info, input: RegisterUsageInput
    ) -> SegmentUsagePayload:
        segment_id = decode_gid(input.segment_id, "Segment")
        if segment_id is None:
            return SegmentUsagePayload(usage=None, user_errors=_bad_id(("input", "segmentId")))
        deps = info.context.deps
        outcome = await actions.register_usage(
            deps, segment_id, input.kind, input.consumer, input.description
        )
        return _usage_payload(outcome)

    @mutation("Remove a registered external consumer.")
    async def unregister_segment_usage(self, info: Info, id: strawberry.ID) -> SegmentUsagePayload:
        usage_id = decode_gid(id, "SegmentUsage")
        if usage_id is None:
            problem = Problem(UserErrorCode.NOT_FOUND, ("id",), "no such usage")
            return SegmentUsagePayload(usage=None, user_errors=user_errors([problem]))
        return _usage_payload(await actions.unregister_usage(info.context.deps, usage_id))


def _usage_payload(outcome: Outcome[UsageRecord]) -> SegmentUsagePayload:
    usage = SegmentUsage.of(outcome.value) if outcome.value else None
    return SegmentUsagePayload(usage=usage, user_errors=user_errors(outcome.problems))


async def _set_state(info: Info, id: strawberry.ID, state: SegmentState) -> SegmentPayload:
    segment_id = decode_gid(id, "Segment")
    if segment_id is None:
        return _failed()
    return SegmentPayload.of(await actions.set_state(info.context.deps, segment_id, state))


async def _change_members(
    info: Info, id: strawberry.ID, keys: list[str], *, add: bool
) -> StaticMembersPayload:
    segment_id = decode_gid(id, "Segment")
    if segment_id is None:
        return StaticMembersPayload(
            segment=None, changed_keys=[], unknown_keys=[], user_errors=_bad_id()
        )
    outcome = await actions.change_members(info.context.deps, segment_id, keys, add=add)
    done = outcome.value
    return StaticMembersPayload(
        segment=Segment.of(done.segment) if done else None,
        changed_keys=list(done.changed) if done else [],
        unknown_keys=list(done.unknown) if done else [],
        user_errors=user_errors(outcome.problems),
    )
