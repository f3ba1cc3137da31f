"""GraphQL types and the query of segment overlap (see server/api/segments/overlap.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from server.api.common import UserError, decode_gid, field, user_errors
from server.api.context import Info
from server.api.segments.overlap import Combination, segment_overlap

if TYPE_CHECKING:
    from server.api.segments.types import Segment

LazySegment = Annotated["Segment", strawberry.lazy("server.api.segments.types")]


@strawberry.type(description="Profiles of one combination with one value of the attribute.")
class OverlapValue:
    value: str | None = strawberry.field(description="As text; null when missing.")
    count: int


@strawberry.type(description="Profiles in exactly these segments and none of the others.")
class OverlapCombination:
    segments: list[LazySegment]
    count: int
    breakdown: list[OverlapValue] = strawberry.field(description="Empty without `breakdown`.")

    @staticmethod
    def of(c: Combination) -> OverlapCombination:
        from server.api.segments.types import Segment  # types.py may import this module

        return OverlapCombination(
            segments=[Segment.of(s) for s in c.segments], count=c.count,
            breakdown=[OverlapValue(value=v, count=n) for v, n in c.breakdown],
        )  # fmt: skip


@strawberry.type
class SegmentOverlap:
    combinations: list[OverlapCombination] = strawberry.field(
        description="Every combination holding profiles, largest first."
    )
    user_errors: list[UserError]


@strawberry.type
class OverlapQueries:
    @field("Profiles in every combination of 2 to 8 segments of one audience (active versions).")
    async def segment_overlap(
        self, info: Info, segments: list[strawberry.ID], breakdown: str | None = None
    ) -> SegmentOverlap:
        ids = [decode_gid(s, "Segment") for s in segments]
        outcome = await segment_overlap(info.context.deps, ids, breakdown)
        found = [OverlapCombination.of(c) for c in outcome.value or ()]
        return SegmentOverlap(combinations=found, user_errors=user_errors(outcome.problems))
