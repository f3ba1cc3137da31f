"""Everything expansions read from or write to Neo4j.

Memberships are read by the checked version scan (server.store.version_scan); feature rows
with the schema-printed query of server.features.cypher; the run's summary is one
`:_ExpansionModel {segmentId}` node.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, LiteralString, Protocol

import numpy as np
import numpy.typing as npt
from neo4j import Record

from graph_schema import Attribute, Entity, GraphSchema, quote_identifier
from server.features.batches import Columns, read_rows_async
from server.features.plan import FeaturePlan
from server.refresh.graph import Graph, compiled, rows, with_identifiers
from server.store.version_scan import version_keys

Key = str | int
Floats = npt.NDArray[np.float64]
BATCH = 10_000


class Reader(Protocol):
    async def read(self, query: LiteralString, **params: Any) -> list[Record]: ...


async def segment_members(graph: Reader, segment_id: str) -> list[Key] | None:
    """The active members' keys, sorted; None when the segment does not exist. Read by the
    checked version scan: raises ScanInconsistent (see server.store.version_scan)."""
    found = await version_keys(graph, segment_id, what="expansion source")
    return None if found is None else sorted(found.keys)  # Python's order, as before


async def profile_keys(graph: Graph, profile: Entity) -> list[Key]:
    """Every key of the profile entity, sorted (a deterministic population), as one
    collected list: far faster for the driver than a record per key."""
    query = with_identifiers(
        "MATCH (p:{label}) WHERE p.{key} IS NOT NULL WITH p.{key} AS k ORDER BY k "
        "RETURN collect(k) AS keys",
        label=profile.label, key=profile.key,
    )  # fmt: skip
    return list((await graph.read(query))[0]["keys"])


async def feature_rows(
    graph: Graph, schema: GraphSchema, plan: FeaturePlan, keys: list[Key], now: dt.datetime,
    progress: Callable[[int, int], Awaitable[None]] | None = None,
) -> Floats:  # fmt: skip
    """One row of the plan's features per key, in order (NaN for a key with no profile; a
    key may come twice, a segment against everyone); `progress(done, total)` hears of each
    batch of profiles read. Read by the column path of `server.features.batches`."""
    total = len(set(keys))

    async def read(text: str, params: dict[str, Any]) -> Columns:
        found = (await graph.read_with(compiled(text), params))[0]
        return dict(zip(found.keys(), found.values(), strict=True))

    async def heard(done: int) -> None:
        if progress is not None:
            await progress(done, total)

    return await read_rows_async(read, schema, plan, keys, now, progress=heard)


async def attribute_columns(
    graph: Graph, profile: Entity, attributes: Sequence[Attribute], keys: list[Key],
    batch_size: int = BATCH, workers: int = 2,
) -> list[list[object]]:  # fmt: skip
    """Per attribute, its value for each key in key order (None for a missing value or
    profile). A batch is one collected record: per attribute, the positions that have a value
    and those values (`collect` drops nulls from both alike); up to `workers` batches in flight.
    One record a profile cost the driver ~50 us, as much as the features' whole read."""
    columns: list[list[object]] = [[None] * len(keys) for _ in attributes]
    if not attributes or not keys:
        return columns
    parts = [
        f"collect(CASE WHEN p.{q} IS NOT NULL THEN i END) AS at{j}, collect(p.{q}) AS v{j}"
        for j, q in enumerate(quote_identifier(a.name) for a in attributes)
    ]
    head = with_identifiers(
        "UNWIND range(0, size($keys) - 1) AS i MATCH (p:{label} {{key}: $keys[i]}) ",
        label=profile.label, key=profile.key,
    )  # fmt: skip
    query = compiled(head + "RETURN " + ", ".join(parts))
    gate = asyncio.Semaphore(max(1, workers))

    async def batch(start: int) -> None:
        async with gate:
            found = (await graph.read(query, keys=keys[start : start + batch_size]))[0]
        for j, column in enumerate(columns):
            for i, value in zip(found[f"at{j}"], found[f"v{j}"], strict=True):
                column[start + i] = value

    await asyncio.gather(*(batch(s) for s in range(0, len(keys), batch_size)))
    return columns


async def save_summary(
    graph: Graph, segment_id: str, summary: dict[str, Any], scores: dict[Key, float]
) -> None:
    """Replace the segment's stored model summary (a JSON document, read whole by the API)
    and its output members' scores (parallel lists `keys` and `scores`)."""
    await graph.write(
        lambda tx: rows(
            tx,
            "MERGE (m:_ExpansionModel {segmentId: $id}) "
            "SET m.summary = $summary, m.trainedAt = datetime($at), m.keys = $keys, "
            "    m.scores = $scores",
            id=segment_id,
            summary=json.dumps(summary),
            at=summary["trainedAt"],
            keys=list(scores),
            scores=list(scores.values()),
        )
    )


async def similarity_of(graph: Reader, segment_id: str, key: Key) -> float | None:
    """A profile's similarity score in the last run (None when it was not in the output)."""
    found = await graph.read(
        "MATCH (m:_ExpansionModel {segmentId: $id}) "
        "RETURN [i IN range(0, size(m.keys) - 1) WHERE m.keys[i] = $key | m.scores[i]] AS s",
        id=segment_id, key=key,
    )  # fmt: skip
    return float(found[0]["s"][0]) if found and found[0]["s"] else None


async def load_summary(graph: Reader, segment_id: str) -> dict[str, Any] | None:
    """The last stored summary of an expansion; None before its first run."""
    found = await graph.read(
        "MATCH (m:_ExpansionModel {segmentId: $id}) RETURN m.summary AS s", id=segment_id
    )
    if not found or found[0]["s"] is None:
        return None
    summary: dict[str, Any] = json.loads(found[0]["s"])
    return summary


async def expansion_settings(graph: Reader, segment_id: str) -> str | None:
    """The expansion settings (JSON) of a segment; None for other segments."""
    found = await graph.read("MATCH (s:_Segment {id: $id}) RETURN s.expansion AS e", id=segment_id)
    return found[0]["e"] if found else None


async def delete_summary(graph: Graph, segment_id: str) -> None:
    await graph.write(
        lambda tx: rows(tx, "MATCH (m:_ExpansionModel {segmentId: $id}) DELETE m", id=segment_id)
    )
