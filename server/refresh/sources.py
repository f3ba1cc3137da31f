"""Where a refresh gets its members from: the seam between the engine (claim, diff, versioned
write, switch) and what selects the members.

A `MemberSource` yields the member keys at the run's evaluation time: of every profile, or only
among given keys (incremental refresh). Today there are three:
- `CypherSource`: a compiled definition evaluated in Neo4j;
- `SplitSource`: a split group, the parent's active members whose bucket is the group's;
- `ExpansionSource` (server.expansion): similar customers, scored by a model trained on the
  source segment; it needs the graph schema, so a worker passes `sources_for(schema)`.
Any other way to compute members (one computed in Python over data read here) is one more
class here and one more case in `member_source`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, LiteralString, Protocol

from graph_schema import GraphSchema
from server.refresh import membership
from server.refresh.definitions import DefinitionError
from server.refresh.graph import Graph
from server.refresh.progress import ReportPhase, ignore_phase
from server.refresh.records import MemberQuery, SegmentInfo, SplitSpec
from server.refresh.spans import member_at
from server.splits.buckets import bucket_of, in_ranges
from server.store.version_scan import version_keys


class MemberSource(Protocol):
    async def select(
        self, graph: Graph, keys: list[Any] | None, report: ReportPhase = ignore_phase
    ) -> set[Any]:
        """The member keys now: of every profile (`keys` None) or only of `keys`. A source
        that evaluates in phases of its own (an expansion) tells `report` of each.

        Raises DefinitionError when the members cannot be computed (the run FAILS with it),
        and Neo4j errors."""
        ...


SourceFactory = Callable[[SegmentInfo, MemberQuery], MemberSource]


def member_source(segment: SegmentInfo, query: MemberQuery) -> MemberSource:
    """The source of a segment's members; `query` is its compiled definition.
    Raises DefinitionError for an expansion (use `sources_for`)."""
    if segment.split is not None:
        return SplitSource(segment.split)
    if segment.expansion is not None:
        raise DefinitionError("expansion segments need the graph schema (sources_for)")
    return CypherSource(query)


def sources_for(schema: GraphSchema) -> SourceFactory:
    """`member_source` that also serves expansion segments (features come from `schema`)."""
    from server.expansion.source import ExpansionSource  # it imports the refresh engine

    def source(segment: SegmentInfo, query: MemberQuery) -> MemberSource:
        if segment.expansion is not None:
            return ExpansionSource(segment, segment.expansion, query, schema)
        return member_source(segment, query)

    return source


@dataclass(frozen=True, slots=True)
class CypherSource:
    query: MemberQuery

    async def select(
        self, graph: Graph, keys: list[Any] | None, report: ReportPhase = ignore_phase
    ) -> set[Any]:
        if keys is None:
            return await membership.evaluate(graph, self.query)
        return await membership.evaluate_among(graph, self.query, keys)


# The parent's version is bound once before its memberships are read (reads are read-committed:
# a version re-read per row could change under a concurrent switch). The whole parent is read
# by the checked version scan (server.store.version_scan); a keyed read seeks each key once and
# has nothing to check (no order, and the count of the keys asked is not known).
_PARENT_MEMBERS_AMONG: LiteralString = (
    "MATCH (s:_Segment {id: $id}) WITH s.activeVersion AS v "
    "CALL (v) { UNWIND $keys AS k MATCH ()-[m:_MEMBER {segmentId: $id, key: k}]->() "
    "  WHERE " + member_at("v") + " RETURN collect(m.key) AS keys } "
    "RETURN keys"
)


@dataclass(frozen=True, slots=True)
class SplitSource:
    split: SplitSpec

    async def select(
        self, graph: Graph, keys: list[Any] | None, report: ReportPhase = ignore_phase
    ) -> set[Any]:
        """Raises DefinitionError when the parent segment no longer exists, ScanInconsistent."""
        parent = self.split.parent_id
        if keys is None:
            whole = await version_keys(graph, parent, what="split parent")
            found = None if whole is None else whole.keys
        else:
            among = await graph.read(_PARENT_MEMBERS_AMONG, id=parent, keys=keys)
            found = among[0]["keys"] if among else None
        if found is None:
            raise DefinitionError(f"the split's parent segment {parent} no longer exists")
        seed, ranges = self.split.seed, self.split.ranges
        return {k for k in found if in_ranges(bucket_of(seed, k), ranges)}
