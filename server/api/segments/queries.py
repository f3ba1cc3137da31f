"""Segment queries: thin resolvers over `reading`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from server.access import Permission
from server.api.common import decode_gid, field
from server.api.context import Info
from server.api.errors import ApiError, ErrorCode
from server.api.segments import member_prefetch, membership, reading
from server.api.segments.inputs import DefinitionInput, SegmentOrderInput
from server.api.segments.membership_types import Membership
from server.api.segments.preview import compile_preview
from server.api.segments.preview_types import CompileSegmentResult
from server.api.segments.types import Segment, SegmentConnection, segment_connection
from server.store.pages import SegmentOrder
from server.store.records import RefreshStatus, SegmentRecord, SegmentState, SegmentType
from server.store.segments import SegmentFilter, get_segments


@strawberry.type
class SegmentQueries:
    @field("Segments, filtered and ordered by any listed column.")
    async def segments(
        self,
        info: Info,
        search: str | None = None,
        tags: list[str] | None = None,
        type: SegmentType | None = None,
        state: SegmentState | None = None,
        status: RefreshStatus | None = None,
        audience: str | None = None,
        order_by: SegmentOrderInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> SegmentConnection:
        f = SegmentFilter(
            search=search, tags=tuple(tags or ()), type=type, state=state, status=status,
            audience=audience,
        )  # fmt: skip
        order = order_by.to_order() if order_by else SegmentOrder()
        page = await reading.list_segments(info.context.deps, f, order, first, after)
        return segment_connection(page, after)

    @field("Compile a definition: diagnostics, or canonical text, JSON, explain and size.")
    async def compile_segment(
        self,
        info: Info,
        definition: DefinitionInput,
        audience: str | None = None,
        as_of: datetime | None = None,
        timezone: str = "UTC",
        estimate: bool = True,
    ) -> CompileSegmentResult:
        preview = await compile_preview(
            info.context.deps, definition.to_source(), audience, as_of, timezone, estimate
        )
        return CompileSegmentResult.of(preview)

    @field("One segment by global id or by name.")
    async def segment(
        self, info: Info, id: strawberry.ID | None = None, name: str | None = None
    ) -> Segment | None:
        found = await _find(info, id, name)
        return Segment.of(found) if found else None

    @field(
        "Is this profile in the segment, and why or why not: each clause's truth for it.",
        requires=Permission.READ_MEMBERS,
    )
    async def membership(
        self,
        info: Info,
        profile: str,
        segment: strawberry.ID | None = None,
        segment_name: str | None = None,
        as_of: datetime | None = None,
    ) -> Membership | None:
        found = await _find(info, segment, segment_name)
        if found is None:
            return None
        report = await membership.explain(info.context.deps, found, profile, as_of)
        return Membership.of(Segment.of(found), report)


async def _find(info: Info, id: strawberry.ID | None, name: str | None) -> SegmentRecord | None:
    if (id is None) == (name is None):
        raise ApiError(ErrorCode.BAD_USER_INPUT, "give exactly one of the id and the name")
    if name is not None:
        return await reading.by_name(info.context.deps, name)
    node_id = decode_gid(str(id), "Segment")
    if not node_id:
        return None
    found = await member_prefetch.segment_and_members(info, node_id)
    if found is not False:
        return found
    # Read directly, not through the DataLoader: a root field has nothing to batch with, and
    # the loader's batch task costs the request two more turns of a busy event loop.
    loader = info.context.segments
    if (cached := loader.cache_map.get(node_id)) is not None:
        return await cached
    found = (await get_segments(info.context.deps.db, [node_id]))[0]
    loader.prime(node_id, found)  # later loads in this request (nested fields) reuse it
    return found
