"""GraphQL types and inputs of expansion segments (see server/api/segments/expansion.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from server.api.common import UserError, field, user_errors
from server.api.context import Info
from server.api.segments import expansion
from server.api.segments.commands import Outcome
from server.api.segments.expansion import ExpansionView
from server.store.records import SegmentRecord

if TYPE_CHECKING:
    from server.api.segments.types import Segment

LazySegment = Annotated["Segment", strawberry.lazy("server.api.segments.types")]


@strawberry.type(description="Profiles in one similarity band.")
class SimilarityBand:
    band: str = strawberry.field(description="NOT_SIMILAR (< 0.55), SOMEWHAT_SIMILAR, SIMILAR "
                                 "(0.7 to 0.85) or VERY_SIMILAR (>= 0.85).")  # fmt: skip
    count: int


@strawberry.type(description="How many profiles score at least `minSimilarity`.")
class ReachPoint:
    min_similarity: float
    size: int


@strawberry.type(description="A feature setting the source apart from the population.")
class ExpansionFactor:
    feature: str
    label: str
    difference: float = strawberry.field(
        description="Standardised mean difference, source minus population (in pooled SDs)."
    )


@strawberry.type(description="The last run's model quality, measured on held-out members.")
class ExpansionQuality:
    trained_at: str
    features: list[str] = strawberry.field(description="The feature columns the model read.")
    source_size: int
    population_size: int
    output_size: int = strawberry.field(description="Profiles picked from the population.")
    holdout_precision: float = strawberry.field(
        description="Share of hidden source members (20% hidden before training) in an output "
        "of the configured size picked from the population plus the hidden members."
    )
    holdout_lift: float = strawberry.field(description="holdoutPrecision / randomPrecision.")
    random_precision: float = strawberry.field(description="What a random pick would get.")
    holdout_recovered: int
    holdout_hidden: int
    score_histogram: list[int] = strawberry.field(
        description="Population scores in 10 bins of 0.1 from 0 to 1."
    )
    bands: list[SimilarityBand]
    reach: list[ReachPoint] = strawberry.field(
        description="Size at each minimum similarity (0.4, 0.55, 0.7, 0.85); nobody under "
        "0.4 is ever a member."
    )
    top_factors: list[ExpansionFactor]

    @staticmethod
    def of(s: dict[str, Any]) -> ExpansionQuality:
        h = s["holdout"]
        return ExpansionQuality(
            trained_at=s["trainedAt"], features=s["features"], source_size=s["sourceSize"],
            population_size=s["populationSize"], output_size=s["outputSize"],
            holdout_precision=h["precision"], holdout_lift=h["lift"],
            random_precision=h["randomPrecision"], holdout_recovered=h["recovered"],
            holdout_hidden=h["hidden"], score_histogram=s["scoreHistogram"],
            bands=[SimilarityBand(band=b, count=n) for b, n in s["bands"].items()],
            reach=[ReachPoint(min_similarity=p["minSimilarity"], size=p["size"])
                   for p in s["reach"]],
            top_factors=[ExpansionFactor(feature=f["feature"], label=f["label"],
                                         difference=f["difference"]) for f in s["topFactors"]],
        )  # fmt: skip


@strawberry.type(description="An expansion segment's settings and the quality of its last run.")
class SegmentExpansion:
    source: LazySegment | None = strawberry.field(description="Null if it was deleted.")
    population: LazySegment | None = strawberry.field(
        description="The segment searched; null: every profile of the audience."
    )
    features: list[str] = strawberry.field(description="As asked; empty: every feature.")
    output_percent: float
    include_source: bool
    quality: ExpansionQuality | None = strawberry.field(description="Null before the first run.")
    record: strawberry.Private[SegmentRecord]

    @staticmethod
    def of(view: ExpansionView, record: SegmentRecord) -> SegmentExpansion:
        from server.api.segments.types import Segment  # types.py imports this module

        s = view.spec
        return SegmentExpansion(
            source=Segment.of(view.source) if view.source else None,
            population=Segment.of(view.population) if view.population else None,
            features=list(s.features), output_percent=s.output_percent,
            include_source=s.include_source,
            quality=ExpansionQuality.of(view.summary) if view.summary else None, record=record,
        )  # fmt: skip

    @field("A profile's similarity score (0 to 1) in the last run; null when not picked.")
    async def similarity(self, info: Info, profile: str) -> float | None:
        key: str | int = profile
        found = await expansion.similarity(info.context.deps, self.record, key)
        if found is None and profile.lstrip("-").isdigit():  # integer keys come as text
            found = await expansion.similarity(info.context.deps, self.record, int(profile))
        return found


@strawberry.type
class ExpansionPayload:
    segment: LazySegment | None
    user_errors: list[UserError]

    @staticmethod
    def of(outcome: Outcome[SegmentRecord]) -> ExpansionPayload:
        from server.api.segments.types import Segment

        segment = Segment.of(outcome.value) if outcome.value else None
        return ExpansionPayload(segment=segment, user_errors=user_errors(outcome.problems))


@strawberry.input
class CreateExpansionSegmentInput:
    name: str = strawberry.field(description="The new segment's name (unique).")
    display_name: str | None = None
    source: strawberry.ID = strawberry.field(description="The segment to find look-alikes of.")
    features: list[str] = strawberry.field(
        default_factory=list,
        description="Feature or attribute names (graphSchema features); empty: all suggested.",
    )
    population: strawberry.ID | None = strawberry.field(
        default=None, description="A segment to search; null: every profile of the audience."
    )
    output_percent: float | None = strawberry.field(
        default=None, description="Share of the population to pick (default 20)."
    )
    include_source: bool = False
