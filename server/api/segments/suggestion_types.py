"""GraphQL types and queries of suggested segments (measure-based and RFM). A suggestion is
created like any segment: `createSegment` with its `name` and `definition`."""

from __future__ import annotations

import math

import strawberry

from server.api.common import UserError, field, user_errors
from server.api.context import Info
from server.api.errors import ApiError, ErrorCode
from server.api.segments.commands import Outcome
from server.api.segments.preview_types import SegmentEstimate
from server.api.segments.suggestions import (
    Suggestion,
    Suggestions,
    catalogue,
    suggest_by_measure,
    suggest_rfm,
)


def _finite(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 4)


@strawberry.type(description="A feature that suggestions can measure or split on.")
class SuggestionFeature:
    name: str = strawberry.field(description="Pass as `measure` or in `influencers`.")
    label: str
    example: str = strawberry.field(description="How a condition on it reads in the language.")


@strawberry.type
class NamedValue:
    name: str
    value: float | None


@strawberry.type(description="A proposed segment: a definition with its size and averages.")
class SegmentSuggestion:
    name: str = strawberry.field(description="A valid, stable segment name for createSegment.")
    display_name: str
    definition: str = strawberry.field(description="In the segment language, canonical.")
    estimate: SegmentEstimate | None = strawberry.field(description="Size over the audience.")
    sample_members: int = strawberry.field(description="Sample profiles the definition selects.")
    average: float | None = strawberry.field(description="The measure's mean over them.")
    values: list[NamedValue] = strawberry.field(description="Further means (RFM: recencyDays...).")
    p_value: float | None = strawberry.field(
        description="Welch's test of their mean against the rest of the sample (measure-based)."
    )

    @staticmethod
    def of(s: Suggestion) -> SegmentSuggestion:
        return SegmentSuggestion(
            name=s.name, display_name=s.display_name, definition=s.text,
            estimate=SegmentEstimate.of(s.estimate) if s.estimate else None,
            sample_members=s.sample_members, average=_finite(s.average),
            values=[NamedValue(name=n, value=_finite(v)) for n, v in s.values],
            p_value=None if s.p_value is None else float(f"{s.p_value:.3g}"),
        )  # fmt: skip


@strawberry.type
class SegmentSuggestions:
    audience: str
    measure: str
    population_average: float | None = strawberry.field(description="Over the whole sample.")
    sample_size: int
    suggestions: list[SegmentSuggestion]
    user_errors: list[UserError]


def _view(outcome: Outcome[Suggestions], audience: str, measure: str) -> SegmentSuggestions:
    v = outcome.value
    return SegmentSuggestions(
        audience=audience, measure=v.measure if v else measure,
        population_average=_finite(v.population_average) if v else None,
        sample_size=v.sample_size if v else 0,
        suggestions=[SegmentSuggestion.of(s) for s in v.items] if v else [],
        user_errors=user_errors(outcome.problems),
    )  # fmt: skip


@strawberry.type
class SuggestionQueries:
    @field("Features of an audience that suggestions can measure or split on.")
    def suggestion_features(self, info: Info, audience: str) -> list[SuggestionFeature]:
        deps = info.context.deps
        if audience not in {e.name for e in deps.schema.entities}:
            raise ApiError(ErrorCode.BAD_USER_INPUT, f"no entity {audience!r} in the graph schema")
        terms = catalogue(deps, audience).terms
        return [
            SuggestionFeature(name=t.name, label=t.label, example=t.condition(False, 1))
            for t in terms.values()
        ]

    @field(
        "Segments whose average measure differs most from the audience's (a regression tree "
        "on the influencing features, over a sample; each checked by running its definition)."
    )
    async def suggest_segments(
        self, info: Info, audience: str, measure: str,
        influencers: list[str] | None = None, first: int = 5,
    ) -> SegmentSuggestions:  # fmt: skip
        outcome = await suggest_by_measure(info.context.deps, audience, measure, influencers, first)
        return _view(outcome, audience, measure)

    @field(
        "Activity-based suggestions: a recency x frequency grid (champions, loyal, at risk, "
        "lost, ...) over an activity's records in the last `periodDays`."
    )
    async def suggest_rfm_segments(
        self, info: Info, audience: str, activity: str, monetary: str | None = None,
        period_days: int = 365,
    ) -> SegmentSuggestions:  # fmt: skip
        outcome = await suggest_rfm(info.context.deps, audience, activity, monetary, period_days)
        return _view(outcome, audience, activity)
