"""The refresh engine's member source for expansion segments (server.refresh.sources seam)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graph_schema import GraphSchema
from server.expansion import graph as g
from server.expansion.expand import expand
from server.refresh.graph import Graph
from server.refresh.progress import ReportPhase, ignore_phase
from server.refresh.records import ExpansionSpec, MemberQuery, Phase, SegmentInfo


@dataclass(frozen=True, slots=True)
class ExpansionSource:
    segment: SegmentInfo
    spec: ExpansionSpec
    query: MemberQuery  # no Cypher: its profile label and key, and `now` in its params
    schema: GraphSchema

    async def select(
        self, graph: Graph, keys: list[Any] | None, report: ReportPhase = ignore_phase
    ) -> set[Any]:
        """The expansion's members now (among `keys` when given: the model ranks the whole
        population, so an incremental refresh computes it all and keeps those keys).

        The run's summary and scores are stored here, before the engine switches versions:
        a run that fails after this leaves the summary of a run whose members never showed.
        Raises DefinitionError (see `expand`)."""
        now = self.query.params["now"]
        found = await expand(graph, self.schema, self.segment.audience, self.spec, now, report)
        await g.save_summary(graph, self.segment.id, found.summary, found.scores)
        await report(Phase.SCORING, 100)
        return found.members if keys is None else found.members & set(keys)
