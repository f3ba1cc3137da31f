"""How a scoring run's write-back costs, shape by shape, side by side in one run on the graph
already in Neo4j: the same synthetic predictions for the first `--profiles` profiles written
by each statement shape (a first run: every profile written, every one with a history entry),
each timed in wall and Neo4j CPU, everything it wrote removed before the next shape.

    python -m bench.scoring.write_shapes --profiles 30000

Shapes: `before` (four factor lists and a `_ScoreHistory` node per profile, as runs wrote
until the packed form), `packed` (what `server.predict.score` writes now: one factor list and
the history entry on the profile), and `packed, no history` (the floor: what the history
costs on top).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from typing import Any

import neo4j
import numpy as np

from bench.scoring.graph_run import neo4j_cpu
from graph_schema import default_schema
from graph_schema import quote_identifier as q
from graph_schema.model import Entity
from server.leads import packed
from server.leads import schema_attributes as a
from server.predict import score
from server.predict.score import WRITE_BATCH, WRITERS
from server.settings import get_settings
from server.store import Db
from server.store.db import Tx

MODEL = "0" * 32  # the probe's model id: what it wrote is found and removed by it
Write = Callable[[Db, Entity, list[dict[str, Any]]], Awaitable[None]]


def rows_for(keys: list[Any], at: dt.datetime, seed: int = 0) -> list[dict[str, Any]]:
    """First-run rows: every profile a prediction with five factors and a history entry."""
    rng = np.random.default_rng(seed)
    probabilities = np.round(rng.uniform(0, 1, len(keys)), 6).tolist()
    factors = np.hstack([rng.integers(0, 50, (len(keys), 5)).astype(np.float64),
                         np.round(rng.normal(0, 5, (len(keys), 15)), 3)]).tolist()  # fmt: skip
    entry = packed.history_entry(MODEL, at, 1, 50)
    return [{"key": k, "probability": p, "score": round(100 * p), "factors": f,
             "by": f"{MODEL}:1", "entry": entry} for k, p, f in zip(keys, probabilities, factors,
                                                                   strict=True)]  # fmt: skip


def before_text(entity: Entity) -> str:
    return (
        f"UNWIND $rows AS row MATCH (p:{q(entity.label)} {{{q(entity.key)}: row.key}}) "
        f"SET p.{q(a.LEAD_PROBABILITY)} = row.probability, "
        f"p.{q(a.PREDICTED_SCORE)} = row.score, p.{q(a.FACTORS)} = row.factors[0..5], "
        f"p.{q(a.FACTOR_POINTS)} = row.factors[5..10], "
        f"p.{q(a.FACTOR_LOG_ODDS)} = row.factors[10..15], "
        f"p.{q(a.FACTOR_VALUES)} = row.factors[15..20], p.{q(a.PREDICTED_BY)} = row.by "
        "WITH row WHERE row.entry IS NOT NULL "
        "CREATE (:_ScoreHistory {modelId: $modelId, key: row.key, at: $at, version: $version, "
        " score: row.score, probability: row.probability, grade: null, salesReady: false})"
    )


def statement(text: str, **extra: Any) -> Write:
    async def write(db: Db, entity: Entity, rows: list[dict[str, Any]]) -> None:
        async def work(tx: Tx) -> None:
            await (await tx.run(text, {"rows": rows, **extra})).consume()

        await db.write(work)

    return write


async def timed_shape(
    db: Db, entity: Entity, rows: list[dict[str, Any]], write: Write
) -> tuple[float, float | None]:
    gate = asyncio.Semaphore(WRITERS)

    async def one(batch: list[dict[str, Any]]) -> None:
        async with gate:
            await write(db, entity, batch)

    wall, cpu = time.perf_counter(), neo4j_cpu()
    await asyncio.gather(*(one(rows[i : i + WRITE_BATCH])
                           for i in range(0, len(rows), WRITE_BATCH)))  # fmt: skip
    after = neo4j_cpu()
    return time.perf_counter() - wall, None if cpu is None or after is None else after - cpu


async def clean(db: Db, entity: Entity) -> None:
    written = ", ".join(f"p.{q(x)}" for x in (
        a.LEAD_PROBABILITY, a.PREDICTED_SCORE, a.FACTOR_PACK, a.FACTORS, a.FACTOR_POINTS,
        a.FACTOR_LOG_ODDS, a.FACTOR_VALUES, a.PREDICTED_BY, a.PREDICTED_HISTORY))  # fmt: skip
    await db.auto(
        f"MATCH (p:{q(entity.label)}) WHERE p.{q(a.PREDICTED_BY)} = $by "
        f"CALL (p) {{ REMOVE {written} }} IN TRANSACTIONS OF 20000 ROWS", by=f"{MODEL}:1"
    )  # fmt: skip
    await db.auto("MATCH (h:_ScoreHistory {modelId: $id}) CALL (h) { DELETE h } "
                  "IN TRANSACTIONS OF 20000 ROWS", id=MODEL)  # fmt: skip


async def run(profile: str, profiles: int, rounds: int) -> None:
    settings = get_settings()
    entity = default_schema().require_entity(profile)
    auth = (settings.neo4j_user, settings.neo4j_password)
    async with neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        db = Db(driver, settings.neo4j_database)
        found = await db.read(f"MATCH (p:{q(entity.label)}) WITH p LIMIT $n "
                              f"RETURN collect(p.{q(entity.key)}) AS keys", n=profiles)  # fmt: skip
        keys = list(found[0]["keys"])
        at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        rows = rows_for(keys, at)
        no_history = [r | {"entry": None} for r in rows]
        shapes: list[tuple[str, Write, list[dict[str, Any]]]] = [
            (
                "before: four lists + history node",
                statement(before_text(entity), modelId=MODEL, at=at, version=1),
                rows,
            ),
            ("packed: one list + history on the profile", score._write, rows),
            ("packed, no history (floor)", score._write, no_history),
        ]
        print(f"{len(keys):,} {profile} profiles, batches of {WRITE_BATCH:,}, {WRITERS} at once")
        for round_ in range(rounds):
            for name, write, batch in shapes:
                await clean(db, entity)
                wall, cpu = await timed_shape(db, entity, batch, write)
                per = "" if cpu is None else f", neo4j {cpu:.2f} s ({cpu / len(keys) * 1e6:.0f} us)"
                print(f"  round {round_ + 1}, {name}: {wall:.2f} s wall{per}")
        await clean(db, entity)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--profile", default="Customer")
    parser.add_argument("--profiles", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.profile, args.profiles, args.rounds))


if __name__ == "__main__":
    main()
