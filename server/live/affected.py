"""Which profiles a changed record can move, per segment: walk back from the record to the
audience along every relationship chain the definition reads (`grammar.neighbourhood`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grammar import bound as b
from grammar.cypher import escape
from grammar.neighbourhood import Chain, chains_of
from graph_schema import Direction
from server.refresh.graph import Graph


def reverse_query(chain: Chain) -> str:
    """Audience keys reached from records (of the chain's last entity) whose keys are $keys.
    The planner starts from the key's unique index at the far end."""
    audience, last = chain.entities[0], chain.entities[-1]
    pattern = f"(n0:{escape.label(audience)})"
    for i, (step, entity) in enumerate(zip(chain.steps, chain.entities[1:], strict=True)):
        rel = f"[:{escape.rel_type(step.relationship)}]"
        arrow = f"-{rel}->" if step.direction is Direction.OUT else f"<-{rel}-"
        pattern += f"{arrow}(n{i + 1}:{escape.label(entity)})"
    end = f"n{len(chain.steps)}"
    return (
        f"MATCH {pattern} WHERE {escape.prop(end, last.key_attribute)} IN $keys "
        f"RETURN collect(DISTINCT {escape.prop('n0', audience.key_attribute)}) AS keys"
    )


async def affected_keys(
    graph: Graph, segment: b.BoundSegment, changed: Mapping[str, list[Any]]
) -> set[Any]:
    """Keys of the segment's audience whose membership the changed records can alter."""
    found: set[Any] = set(changed.get(segment.audience.name, ()))
    for chain in chains_of(segment):
        if not chain.steps:
            continue
        keys = changed.get(chain.entities[-1].name)
        if keys:
            records = await graph.read_with(reverse_query(chain), {"keys": keys})
            found.update(records[0]["keys"])
    return found
