"""Run feature queries against Neo4j: batches of profile keys in, a FeatureMatrix out.

Also the data-driven half of planning (`discover_categories`), profile keys, outcomes, and the
ages of matching interactions that points-model rules read.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import neo4j
import numpy as np

from graph_schema import Attribute, AttrType, Entity, GraphSchema, quote_identifier
from scoring import FeatureMatrix
from server.features.batches import BATCH, Columns, read_rows
from server.features.cypher import age_expression, feature_query, pattern, time_params
from server.features.fold import Floats
from server.features.plan import Activity, FeaturePlan, category_candidates

q = quote_identifier
Key = str | int


@dataclass(frozen=True, slots=True)
class Extraction:
    matrix: FeatureMatrix
    seconds: float
    batches: int


class Method(StrEnum):
    """How feature rows are read: flat columns folded with numpy (`server.features.columns`),
    or the former per-profile CASE aggregates in Cypher (`server.features.cypher`), kept as
    a second implementation and the benchmarks' baseline."""

    COLUMNS = "columns"
    PER_PROFILE = "per-profile"


def extract_features(
    driver: neo4j.Driver,
    schema: GraphSchema,
    plan: FeaturePlan,
    keys: Sequence[Key],
    *,
    now: dt.datetime,
    batch_size: int | None = None,
    workers: int | None = None,
    database: str | None = None,
    progress: Callable[[int], None] | None = None,
    method: Method = Method.COLUMNS,
) -> Extraction:
    """Feature rows for `keys` as of `now` (later records are ignored, so a past `now`
    rebuilds what was known then). Unknown keys give rows of NaN. `workers` > 1 runs that
    many queries at once on separate sessions (Community runs each query on one core).

    Raises ValueError for a naive `now`; neo4j errors as the driver raises them.
    """
    started = time.perf_counter()
    if method is Method.COLUMNS:
        size = batch_size or BATCH

        def read(text: str, params: dict[str, Any]) -> Columns:
            records, _, _ = driver.execute_query(
                text, params, routing_=neo4j.RoutingControl.READ, database_=database
            )
            return dict(zip(records[0].keys(), records[0].values(), strict=True))

        values = read_rows(read, schema, plan, keys, now, batch_size=size,
                           workers=workers or 2, progress=progress)  # fmt: skip
        batches = -(-len(set(keys)) // size)
    else:
        values, batches = _per_profile(driver, schema, plan, keys, now=now,
                                       batch_size=batch_size or 2_000, workers=workers or 1,
                                       database=database, progress=progress)  # fmt: skip
    names = tuple(f.name for f in plan.features)
    labels = {f.name: f.label for f in plan.features}
    matrix = FeatureMatrix(tuple(str(k) for k in keys), names, values, labels)
    return Extraction(matrix, time.perf_counter() - started, batches)


def _per_profile(
    driver: neo4j.Driver, schema: GraphSchema, plan: FeaturePlan, keys: Sequence[Key], *,
    now: dt.datetime, batch_size: int, workers: int, database: str | None,
    progress: Callable[[int], None] | None,
) -> tuple[Floats, int]:  # fmt: skip
    cypher, constants = feature_query(schema, plan)
    params = {**constants, **time_params(now, plan.windows)}
    values = np.full((len(keys), len(plan.features)), np.nan)
    position = {k: i for i, k in enumerate(keys)}
    batches = [list(keys[i : i + batch_size]) for i in range(0, len(keys), batch_size)]

    def run(batch: list[Key]) -> list[neo4j.Record]:
        records, _, _ = driver.execute_query(
            cypher, {**params, "keys": batch}, routing_=neo4j.RoutingControl.READ,
            database_=database,
        )  # fmt: skip
        return records

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for batch, records in zip(batches, pool.map(run, batches), strict=True):
            for record in records:
                values[position[record["key"]]] = np.array(record["row"], dtype=np.float64)
            done += len(batch)
            if progress is not None:
                progress(done)
    return values, len(batches)


def next_value_query(entity: Entity, attr: Attribute) -> str:
    """The smallest value of `attr` above `$after`: one range-index seek."""
    return (
        f"MATCH (x:{q(entity.label)}) WHERE x.{q(attr.name)} > $after "
        f"RETURN x.{q(attr.name)} AS v ORDER BY v LIMIT 1"
    )


def discover_categories(
    driver: neo4j.Driver,
    schema: GraphSchema,
    profile: str,
    *,
    max_hops: int = 2,
    max_values: int = 6,
    database: str | None = None,
) -> dict[tuple[str, str], tuple[str, ...]]:
    """Values of the activities' indexed string attributes that have at most `max_values`
    distinct values (`EmailEvent.type`: sent, open, click); others are left out.

    Walks the range index one distinct value at a time (each step one seek), so it costs
    max_values + 1 seeks per attribute however many records there are.
    """
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for entity, attr in category_candidates(schema, profile, max_hops):
        cypher = next_value_query(entity, attr)
        values: list[str] = []
        after = ""
        while len(values) <= max_values:
            records, _, _ = driver.execute_query(
                cypher, after=after, routing_=neo4j.RoutingControl.READ, database_=database
            )
            if not records:
                break
            after = records[0]["v"]
            values.append(after)
        if 0 < len(values) <= max_values:
            found[(entity.name, attr.name)] = tuple(values)
    return found


def profile_keys(driver: neo4j.Driver, entity: Entity, *, database: str | None = None) -> list[Key]:
    """Every key of the entity, sorted (deterministic training sets). One collected list:
    the driver decodes it ~20x faster than a record per key (5.3 s for 100k keys as records)."""
    key = q(entity.key)
    records, _, _ = driver.execute_query(
        f"MATCH (p:{q(entity.label)}) WHERE p.{key} IS NOT NULL WITH p.{key} AS k ORDER BY k "
        "RETURN collect(k) AS keys",
        routing_=neo4j.RoutingControl.READ, database_=database,
    )  # fmt: skip
    return list(records[0]["keys"])


def fetch_outcome(
    driver: neo4j.Driver,
    entity: Entity,
    attribute: str,
    keys: Sequence[Key],
    *,
    batch_size: int = 20_000,
    database: str | None = None,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The outcome attribute per key: booleans as 1/0, numbers as they are, missing as NaN.

    Raises KeyError for an attribute the entity does not have, ValueError for one that is
    neither boolean nor numeric.
    """
    attr = entity.attribute(attribute)
    if attr is None:
        raise KeyError(attribute)
    if not (attr.type is AttrType.BOOLEAN or attr.type.is_numeric):
        raise ValueError(f"an outcome is boolean or numeric, {attr.name} is {attr.type}")
    cypher = (
        f"UNWIND $keys AS key MATCH (p:{q(entity.label)} {{{q(entity.key)}: key}}) "
        f"RETURN key, p.{q(attr.name)} AS v"
    )
    out = np.full(len(keys), np.nan)
    position = {k: i for i, k in enumerate(keys)}
    for start in range(0, len(keys), batch_size):
        records, _, _ = driver.execute_query(
            cypher, keys=list(keys[start : start + batch_size]),
            routing_=neo4j.RoutingControl.READ, database_=database,
        )  # fmt: skip
        for r in records:
            out[position[r["key"]]] = np.nan if r["v"] is None else float(r["v"])
    return out


def interaction_ages(
    driver: neo4j.Driver,
    schema: GraphSchema,
    activity: Activity,
    keys: Sequence[Key],
    *,
    now: dt.datetime,
    where: Mapping[str, object] | None = None,
    batch_size: int = 5_000,
    database: str | None = None,
) -> dict[Key, tuple[float, ...]]:
    """Per key, the ages in days of the activity's records matching `where` (attribute ->
    value, equality), as points-model facts. Raises KeyError for an unknown attribute."""
    conditions, params = [], {}
    for i, (name, value) in enumerate((where or {}).items()):
        attr = activity.related.entity.attribute(name)
        if attr is None:
            raise KeyError(name)
        conditions.append(f"x.{q(attr.name)} = $w{i}")
        params[f"w{i}"] = value
    t = activity.time
    latest = "$today" if t.type is AttrType.DATE else "$now"
    matches = " AND ".join([f"x.{q(t.name)} <= {latest}", *conditions])
    profile = schema.require_entity(activity.related.steps[0].origin)
    # conditions inside collect(), not WHERE, and a CALL per profile: no predicate or join for
    # a stale-statistics plan to scan with (see cypher._activity_part); collect() drops nulls
    cypher = (
        f"UNWIND $keys AS key MATCH (p:{q(profile.label)} {{{q(profile.key)}: key}}) "
        f"CALL (p) {{ MATCH {pattern(schema, activity.related.steps, 'x')} "
        f"RETURN collect(CASE WHEN {matches} THEN {age_expression('x', t)} END) AS ages }} "
        "RETURN key, ages"
    )
    out: dict[Key, tuple[float, ...]] = {}
    for start in range(0, len(keys), batch_size):
        records, _, _ = driver.execute_query(
            cypher, {**params, "keys": list(keys[start : start + batch_size]), "now": now,
                     "today": now.date()},
            routing_=neo4j.RoutingControl.READ, database_=database,
        )  # fmt: skip
        out.update((r["key"], tuple(r["ages"])) for r in records)
    return out
