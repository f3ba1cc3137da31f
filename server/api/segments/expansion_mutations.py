"""The expansion mutation: decode ids, call the expansion domain, wrap the outcome."""

from __future__ import annotations

import strawberry

from server.api.common import decode_gid, mutation
from server.api.context import Info
from server.api.segments import expansion
from server.api.segments.expansion_types import CreateExpansionSegmentInput, ExpansionPayload


@strawberry.type
class ExpansionMutations:
    @mutation("Create a segment of the customers most similar to a source segment's members.")
    async def create_expansion_segment(
        self, info: Info, input: CreateExpansionSegmentInput
    ) -> ExpansionPayload:
        request = expansion.ExpansionRequest(
            name=input.name, display_name=input.display_name,
            source_id=decode_gid(input.source, "Segment"),
            population_id=decode_gid(input.population, "Segment") if input.population else None,
            population_given=input.population is not None, features=input.features,
            output_percent=input.output_percent, include_source=input.include_source,
        )  # fmt: skip
        return ExpansionPayload.of(await expansion.create_expansion(info.context.deps, request))
