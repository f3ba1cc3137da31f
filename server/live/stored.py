"""The stored values a time condition reads, in Neo4j: which profiles hold a value in a range
(the ones a moving window crossed), and the nearest value ahead of a boundary (when the window
will next cross one). Labels, types and properties come from the bound tree (quoted by
`grammar.cypher.escape`); every value is a parameter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from grammar.cypher import escape
from graph_schema import Direction
from server.live.windows import Bound, TimeLeaf
from server.refresh.graph import Graph


def _match(leaf: TimeLeaf) -> tuple[str, str]:
    """(MATCH pattern from the audience to the record, the attribute's expression)."""
    chain, prop = leaf.chain, leaf.prop
    assert prop is not None
    pattern = f"(n0:{escape.label(chain.entities[0])})"
    for i, (step, entity) in enumerate(zip(chain.steps, chain.entities[1:], strict=True)):
        rel = f"[r{i}:{escape.rel_type(step.relationship)}]"
        arrow = f"-{rel}->" if step.direction is Direction.OUT else f"<-{rel}-"
        pattern += f"{arrow}(n{i + 1}:{escape.label(entity)})"
    owner = f"r{leaf.rel_step}" if leaf.rel_step is not None else f"n{len(chain.steps)}"
    return f"MATCH {pattern}", escape.prop(owner, prop.attribute)


def _audience_key(leaf: TimeLeaf) -> str:
    return escape.prop("n0", leaf.chain.entities[0].key_attribute)


async def keys_in_ranges(
    graph: Graph, leaf: TimeLeaf, spans: Iterable[tuple[Bound, Bound]]
) -> set[Any]:
    """Profiles holding a value in one of the closed ranges [low, high]."""
    ranges = list(spans)
    if not ranges:
        return set()
    match, value = _match(leaf)
    where = " OR ".join(f"({value} >= $lo{i} AND {value} <= $hi{i})" for i in range(len(ranges)))
    params: dict[str, Any] = {}
    for i, (low, high) in enumerate(ranges):
        params[f"lo{i}"], params[f"hi{i}"] = low, high
    query = f"{match} WHERE {where} RETURN collect(DISTINCT {_audience_key(leaf)}) AS keys"
    found = await graph.read_with(query, params)
    return set(found[0]["keys"])


async def keys_on_days(graph: Graph, leaf: TimeLeaf, days: Iterable[int]) -> set[Any]:
    """Profiles holding a date whose month * 100 + day is one of `days`."""
    wanted = sorted(days)
    if not wanted:
        return set()
    match, value = _match(leaf)
    query = (
        f"{match} WHERE {value}.month * 100 + {value}.day IN $days "
        f"RETURN collect(DISTINCT {_audience_key(leaf)}) AS keys"
    )
    found = await graph.read_with(query, {"days": wanted})
    return set(found[0]["keys"])


async def nearest_ahead(graph: Graph, leaf: TimeLeaf, edge: Bound, strict: bool) -> Bound | None:
    """The smallest stored value at (`strict`: beyond) `edge`, or None."""
    match, value = _match(leaf)
    op = ">" if strict else ">="
    query = f"{match} WHERE {value} {op} $edge RETURN min({value}) AS v"
    found = await graph.read_with(query, {"edge": edge})
    return _native(found[0]["v"]) if found else None


async def stored_days(graph: Graph, leaf: TimeLeaf) -> frozenset[int]:
    """Every month * 100 + day the attribute holds (anniversaries ignore the year)."""
    match, value = _match(leaf)
    query = (
        f"{match} WHERE {value} IS NOT NULL "
        f"RETURN collect(DISTINCT {value}.month * 100 + {value}.day) AS days"
    )
    found = await graph.read_with(query, {})
    return frozenset(found[0]["days"])


def _native(value: Any) -> Bound | None:
    """Driver temporal values as Python ones (aware datetimes in UTC)."""
    if value is None:
        return None
    native = value.to_native() if hasattr(value, "to_native") else value
    if isinstance(native, dt.datetime):
        return native.astimezone(dt.UTC) if native.tzinfo else native.replace(tzinfo=dt.UTC)
    assert isinstance(native, dt.date)
    return native
