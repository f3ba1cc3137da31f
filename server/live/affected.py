"""Which profiles a changed record can move, per segment: walk back from the record to the
audience along every relationship chain the definition reads (`grammar.neighbourhood`)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from grammar import bound as b
from grammar.cypher import escape
from grammar.neighbourhood import Chain, chains_of
from graph_schema import Direction
from server.live.records import Change
from server.refresh.graph import Graph, compiled


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


def attributes_read(segment: b.BoundSegment) -> dict[str, set[str]]:
    """Entity name -> the attributes of it the definition reads (any depth)."""
    found: dict[str, set[str]] = defaultdict(set)
    for prop in _properties(segment.body):
        if prop.relationship is None:
            found[prop.entity.name].add(prop.attribute.name)
    return found


def _properties(node: Any) -> Iterator[b.BoundProperty]:
    """Every BoundProperty in a bound tree (frozen dataclasses and tuples of them)."""
    if isinstance(node, b.BoundProperty):
        yield node
    elif isinstance(node, tuple):
        for item in node:
            yield from _properties(item)
    elif is_dataclass(node) and not isinstance(node, type):
        for f in fields(node):
            value = getattr(node, f.name)
            if is_dataclass(value) or isinstance(value, tuple):
                yield from _properties(value)


def relevant(changes: Iterable[Change], reads: Mapping[str, set[str]]) -> dict[str, list[Any]]:
    """Entity -> keys of the changes that can matter to a segment reading `reads`: new records
    and new links always; otherwise only when an attribute it reads was written."""
    found: dict[str, list[Any]] = defaultdict(list)
    for c in changes:
        if c.structural or reads.get(c.entity, set()) & set(c.attributes):
            found[c.entity].append(c.key)
    return found


# Reverse walks already started in this apply, by (query, keys): the segments that read the
# same chain (many thresholds on one attribute) share one read.
Walks = dict[tuple[str, tuple[Any, ...]], "asyncio.Future[list[Any]]"]


async def affected_keys(
    graph: Graph, segment: b.BoundSegment, changes: Iterable[Change], walks: Walks | None = None
) -> set[Any]:
    """Keys of the segment's audience whose membership the changed records can alter."""
    changed = relevant(changes, attributes_read(segment))
    found: set[Any] = set(changed.get(segment.audience.name, ()))
    walks = {} if walks is None else walks
    for chain in chains_of(segment):
        if not chain.steps:
            continue
        keys = changed.get(chain.entities[-1].name)
        if keys:
            found.update(await _walk(graph, reverse_query(chain), keys, walks))
    return found


async def _walk(graph: Graph, query: str, keys: list[Any], walks: Walks) -> list[Any]:
    seen = (query, tuple(keys))
    if seen not in walks:
        walks[seen] = asyncio.ensure_future(_read_keys(graph, query, keys))
    return await walks[seen]


async def _read_keys(graph: Graph, query: str, keys: list[Any]) -> list[Any]:
    records = await graph.read_with(compiled(query), {"keys": keys})
    return list(records[0]["keys"])
