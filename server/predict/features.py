"""What a training or scoring run reads from Neo4j through the async driver: audience keys,
category values of the activities, feature rows (the query of `server.features.cypher`) and
outcomes. Labels and property names come from schema objects through `quote_identifier`;
values are parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from graph_schema import GraphSchema, quote_identifier
from scoring import FeatureMatrix
from server.features.batches import Columns, read_rows_async
from server.features.extract import next_value_query
from server.features.plan import FeaturePlan, category_candidates
from server.leads import graph as leads_graph
from server.predict.compile import CompiledPredict
from server.refresh.graph import compiled
from server.store.db import Db
from server.store.evaluate import execute_read

q = quote_identifier
Key = str | int
READ_TIMEOUT_S = 1800.0
MAX_CATEGORY_VALUES = 6


async def audience_keys(db: Db, model: CompiledPredict) -> list[Key]:
    """The audience's keys, sorted: the same keys give the same split and the same hash."""
    if model.audience is None:
        found = await leads_graph.all_keys(db, model.entity)
    else:
        found = await leads_graph.read_keys(db, model.audience.cypher, model.audience.params)
    return sorted(k for k in found if k is not None)


async def discover_categories(
    db: Db, schema: GraphSchema, profile: str, max_hops: int
) -> dict[tuple[str, str], tuple[str, ...]]:
    """As `server.features.discover_categories`: values of the activities' indexed string
    attributes with at most 6 distinct values, one index seek per value."""
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for entity, attr in category_candidates(schema, profile, max_hops):
        text = next_value_query(entity, attr)
        values: list[str] = []
        after = ""
        while len(values) <= MAX_CATEGORY_VALUES:
            records = await db.read(compiled(text), after=after)
            if not records:
                break
            after = records[0]["v"]
            values.append(after)
        if 0 < len(values) <= MAX_CATEGORY_VALUES:
            found[(entity.name, attr.name)] = tuple(values)
    return found


async def feature_matrix(
    db: Db, schema: GraphSchema, plan: FeaturePlan, keys: list[Key], now: dt.datetime,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> FeatureMatrix:  # fmt: skip
    """One row of the plan's features per key, as of `now`; `progress` gets the rows done.
    Read by the column path (`server.features.batches`): flat lists per batch and activity,
    folded with numpy."""

    async def read(text: str, params: dict[str, Any]) -> Columns:
        found = (await execute_read(db, text, params, READ_TIMEOUT_S))[0]
        return dict(zip(found.keys(), found.values(), strict=True))

    values = await read_rows_async(read, schema, plan, keys, now, progress=progress)
    labels = {f.name: f.label for f in plan.features}
    names = tuple(f.name for f in plan.features)
    return FeatureMatrix(tuple(str(k) for k in keys), names, values, labels)


async def outcomes(db: Db, model: CompiledPredict, keys: list[Key]) -> np.ndarray[Any, Any]:
    """1 where the outcome attribute equals the positive value, else 0 (missing too)."""
    e = model.entity
    text = (
        f"UNWIND $keys AS key MATCH (p:{q(e.label)} {{{q(e.key)}: key}}) "
        f"RETURN collect(key) AS keys, "
        f"collect(coalesce(p.{q(model.outcome.name)} = $positive, false)) AS hits"
    )
    out = np.zeros(len(keys))
    position = {k: i for i, k in enumerate(keys)}
    for start in range(0, len(keys), 20_000):
        params = {"keys": keys[start : start + 20_000], "positive": model.positive}
        found = (await execute_read(db, text, params, READ_TIMEOUT_S))[0]
        for key, hit in zip(found["keys"], found["hits"], strict=True):
            out[position[key]] = 1.0 if hit else 0.0
    return out
