"""Differentiators: the features that set a segment's members apart from every profile of its
audience, or from a second segment's members (server.expansion.differentiators)."""

from __future__ import annotations

from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments.commands import Outcome
from server.api.segments.domain import get, not_found
from server.expansion import graph as g
from server.expansion.differentiators import SAMPLE, Differentiator, differentiators, sample
from server.refresh.graph import Graph

Code = UserErrorCode
MAX_FIRST = 50


@dataclass(frozen=True, slots=True)
class DifferentiatorsView:
    segment_size: int
    others_size: int
    sampled: bool  # a side had more than the sample size
    items: tuple[Differentiator, ...]


async def segment_differentiators(
    deps: Deps, segment_id: str | None, versus_id: str | None, versus_given: bool, first: int
) -> Outcome[DifferentiatorsView]:
    """Refused for a missing segment or comparison segment, one of another audience, and
    `first` outside 1..50."""
    if not 1 <= first <= MAX_FIRST:
        message = f"first is 1 to {MAX_FIRST}"
        return Outcome.fail(Problem(Code.LIMIT_EXCEEDED, ("first",), message))
    seg = await get(deps, segment_id) if segment_id else None
    if seg is None:
        return Outcome.fail(not_found(("segment",)))
    versus = await get(deps, versus_id) if versus_id else None
    if versus_given and versus is None:
        return Outcome.fail(not_found(("versus",)))
    if versus is not None and versus.audience != seg.audience:
        message = f"compare with a segment of {seg.audience}"
        return Outcome.fail(Problem(Code.AUDIENCE_MISMATCH, ("versus",), message))
    graph = Graph(deps.db.driver, deps.db.database)
    members = await g.segment_members(deps.db, seg.id) or []
    if versus is not None:
        others = await g.segment_members(deps.db, versus.id) or []
    else:
        others = await g.profile_keys(graph, deps.schema.require_entity(seg.audience))
    items: list[Differentiator] = []
    if members and others:
        a, b = sample(members), sample(others)
        items = await differentiators(graph, deps.schema, seg.audience, a, b, deps.clock(), first)
    sampled = max(len(members), len(others)) > SAMPLE
    return Outcome(DifferentiatorsView(len(members), len(others), sampled, tuple(items)))
