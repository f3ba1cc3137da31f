"""What values an attribute holds, for builders: the 10 most common values of low-cardinality
attributes, percentiles of numeric ones, the range of temporal ones.

One query reads the values of a sample (all of them up to SAMPLE rows, else a uniform random
sample of about SAMPLE) and Python does the arithmetic, so every figure comes from the same
sample. Results are cached in Redis for a few minutes: builders ask often, data moves slowly.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from grammar.cypher import escape
from graph_schema import Attribute, AttrType, Entity
from server.store.db import Db
from server.store.members import plain_value

SAMPLE = 20_000
TOP = 10
PERCENTILES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
CACHE_S = 300
# Low cardinality: few distinct values, so a top-10 list says something (and names, e-mail
# addresses and other near-unique values are never listed).
MAX_DISTINCT = 100
NUMERIC = (AttrType.INTEGER, AttrType.FLOAT)
TEMPORAL = (AttrType.DATE, AttrType.DATETIME)


@dataclass(frozen=True, slots=True)
class ValueStats:
    total: int  # records of the entity
    sample_size: int  # records read
    sampled: bool  # False: every record was read
    non_null: int  # in the sample
    distinct: int  # in the sample
    top: list[tuple[Any, int]]  # (value, count in the sample), most common first
    percentiles: list[tuple[float, float]]  # (p, value), numeric attributes only
    minimum: str | None  # temporal attributes: ISO text
    maximum: str | None


def _cache_key(entity: Entity, attribute: Attribute) -> str:
    return f"schema:stats:{entity.label}:{attribute.name}"


async def attribute_stats(db: Db, redis: Redis, entity: Entity, attribute: Attribute) -> ValueStats:
    cached = await redis.get(_cache_key(entity, attribute))
    if cached is not None:
        return _load(json.loads(cached))
    stats = await _compute(db, entity, attribute)
    await redis.set(_cache_key(entity, attribute), json.dumps(asdict(stats)), ex=CACHE_S)
    return stats


def _load(raw: dict[str, Any]) -> ValueStats:
    raw["top"] = [tuple(t) for t in raw["top"]]
    raw["percentiles"] = [tuple(p) for p in raw["percentiles"]]
    return ValueStats(**raw)


async def _compute(db: Db, entity: Entity, attribute: Attribute) -> ValueStats:
    label, value = escape.label(entity), escape.prop("n", attribute)
    total = int((await db.read(f"MATCH (n:{label}) RETURN count(n) AS c"))[0]["c"])
    sampled = total > SAMPLE
    where = " WHERE rand() < $fraction" if sampled else ""
    query = f"MATCH (n:{label}){where} RETURN count(n) AS rows, collect({value}) AS vs"
    found = (await db.read(query, fraction=SAMPLE / max(total, 1)))[0]
    values = [plain_value(v) for v in found["vs"]]
    counts = Counter(v for v in values if isinstance(v, str | int | float | bool))
    top: list[tuple[Any, int]] = []
    if attribute.type not in TEMPORAL and 0 < len(counts) <= MAX_DISTINCT:
        top = sorted(counts.items(), key=lambda vc: (-vc[1], str(vc[0])))[:TOP]
    percentiles: list[tuple[float, float]] = []
    if attribute.type in NUMERIC and values:
        ordered = sorted(float(v) for v in values)
        percentiles = [(p, _nearest_rank(ordered, p)) for p in PERCENTILES]
    # Compared as instants (text would misorder mixed offsets), shown as ISO text.
    native = sorted(v.to_native() for v in found["vs"]) if attribute.type in TEMPORAL else []
    return ValueStats(
        total=total,
        sample_size=int(found["rows"]),
        sampled=sampled,
        non_null=len(values),
        distinct=len(set(map(str, values))),
        top=top,
        percentiles=percentiles,
        minimum=native[0].isoformat() if native else None,
        maximum=native[-1].isoformat() if native else None,
    )


def _nearest_rank(ordered: list[float], p: float) -> float:
    """The nearest-rank percentile (as Cypher's percentileDisc): a value that occurs."""
    rank = max(1, math.ceil(p * len(ordered)))
    return ordered[rank - 1]
