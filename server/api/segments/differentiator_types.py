"""GraphQL types and the query of segment differentiators."""

from __future__ import annotations

import math

import strawberry

from server.api.common import UserError, decode_gid, field, user_errors
from server.api.context import Info
from server.api.segments.differentiators import segment_differentiators
from server.expansion.differentiators import Differentiator


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


@strawberry.type(description="A feature whose values differ between the segment and the others.")
class SegmentDifferentiator:
    feature: str = strawberry.field(description="A feature name, or a string attribute.")
    label: str
    value: str | None = strawberry.field(description="The string attribute's most different value.")
    score: float = strawberry.field(description="|difference|: 0.2 small, 0.5 medium, 0.8 large.")
    difference: float = strawberry.field(
        description="Segment minus others: standardised mean difference, or Cohen's h of shares."
    )
    segment_value: float | None = strawberry.field(description="Mean, or share of `value`.")
    others_value: float | None

    @staticmethod
    def of(d: Differentiator) -> SegmentDifferentiator:
        return SegmentDifferentiator(
            feature=d.feature, label=d.label, value=d.value, score=round(d.score, 4),
            difference=round(d.difference, 4), segment_value=_finite(d.segment_value),
            others_value=_finite(d.others_value),
        )  # fmt: skip


@strawberry.type
class SegmentDifferentiators:
    segment_size: int
    others_size: int
    sampled: bool = strawberry.field(description="Computed on samples of 5,000 per side.")
    differentiators: list[SegmentDifferentiator] = strawberry.field(description="Largest first.")
    user_errors: list[UserError]


@strawberry.type
class DifferentiatorQueries:
    @field("What sets a segment's members apart from every profile, or from another segment.")
    async def segment_differentiators(
        self, info: Info, segment: strawberry.ID, versus: strawberry.ID | None = None,
        first: int = 10,
    ) -> SegmentDifferentiators:  # fmt: skip
        outcome = await segment_differentiators(
            info.context.deps, decode_gid(segment, "Segment"),
            decode_gid(versus, "Segment") if versus else None, versus is not None, first,
        )  # fmt: skip
        v = outcome.value
        return SegmentDifferentiators(
            segment_size=v.segment_size if v else 0, others_size=v.others_size if v else 0,
            sampled=v.sampled if v else False,
            differentiators=[SegmentDifferentiator.of(d) for d in v.items] if v else [],
            user_errors=user_errors(outcome.problems),
        )  # fmt: skip
