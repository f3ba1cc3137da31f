"""Split mutations: decode ids, call the splits domain, wrap the outcome in a payload."""

from __future__ import annotations

import strawberry

from server.api.common import decode_gid, mutation, user_errors
from server.api.context import Info
from server.api.segments import splits
from server.api.segments.domain import not_found
from server.api.segments.split_types import SplitPayload, SplitSegmentInput, UpdateSplitInput


def _bad_segment() -> SplitPayload:
    problems = [not_found(("input", "segment"))]
    return SplitPayload(split=None, groups=[], user_errors=user_errors(problems))


@strawberry.type
class SplitMutations:
    @mutation("Split a segment into stable random groups, each a segment of its own.")
    async def split_segment(self, info: Info, input: SplitSegmentInput) -> SplitPayload:
        segment_id = decode_gid(input.segment, "Segment")
        if segment_id is None:
            return _bad_segment()
        groups = [g.to_spec() for g in input.groups]
        outcome = await splits.split_segment(info.context.deps, segment_id, input.seed, groups)
        return SplitPayload.of(outcome)

    @mutation("Resize a split's groups or add groups; the seed stays, few profiles move.")
    async def update_split(self, info: Info, input: UpdateSplitInput) -> SplitPayload:
        segment_id = decode_gid(input.segment, "Segment")
        if segment_id is None:
            return _bad_segment()
        groups = [g.to_spec() for g in input.groups]
        return SplitPayload.of(await splits.update_split(info.context.deps, segment_id, groups))
