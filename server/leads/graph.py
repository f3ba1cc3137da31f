"""The profile reads and writes of a scoring run (the one module of a run that talks to
Neo4j). Labels and property names come from schema objects through `quote_identifier`; every
value is a parameter; writes are `UNWIND $rows` batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from graph_schema import quote_identifier
from graph_schema.model import Entity
from server.leads import schema_attributes as a
from server.leads.records import ScoreRunRecord
from server.store.db import Db, Tx
from server.store.evaluate import execute_read

RUN_QUERY_TIMEOUT_S = 1800.0
q = quote_identifier


async def ensure_score_index(db: Db, entity: Entity) -> None:
    """A range index on the entity's `leadScore`: leads pages walk it in score order and a run
    finds the profiles scored before through it."""
    text = f"CREATE INDEX IF NOT EXISTS FOR (p:{q(entity.label)}) ON (p.{q(a.LEAD_SCORE)})"
    await db.driver.execute_query(text, database_=db.database)


async def read_keys(db: Db, text: str, params: dict[str, Any]) -> list[Any]:
    """The `key` column of a compiled members query, collected into one record: the driver
    hydrates one list ~20x faster than as many records (0.2 s against 4 s for 67k keys)."""
    wrapped = f"CALL () {{\n{text}\n}}\nRETURN collect(key) AS keys"
    found = await execute_read(db, wrapped, params, RUN_QUERY_TIMEOUT_S)
    return list(found[0]["keys"])


async def read_counts(db: Db, text: str, params: dict[str, Any]) -> dict[Any, int]:
    """`key` -> `matches` of a compiled count form (collected, as `read_keys`)."""
    wrapped = f"CALL () {{\n{text}\n}}\nRETURN collect(key) AS keys, collect(matches) AS matches"
    found = (await execute_read(db, wrapped, params, RUN_QUERY_TIMEOUT_S))[0]
    return dict(zip(found["keys"], (int(m) for m in found["matches"]), strict=True))


async def read_ages(db: Db, text: str, params: dict[str, Any]) -> dict[Any, list[float]]:
    """`key` -> `ages` (days) of a compiled ages form (collected, as `read_keys`)."""
    wrapped = f"CALL () {{\n{text}\n}}\nRETURN collect(key) AS keys, collect(ages) AS ages"
    found = (await execute_read(db, wrapped, params, RUN_QUERY_TIMEOUT_S))[0]
    return dict(zip(found["keys"], ([float(a) for a in x] for x in found["ages"]), strict=True))


async def all_keys(db: Db, entity: Entity) -> list[Any]:
    text = f"MATCH (p:{q(entity.label)}) RETURN p.{q(entity.key)} AS key"
    return await read_keys(db, text, {})


async def scored_profiles(db: Db, entity: Entity) -> dict[Any, dict[str, Any]]:
    """What the last runs wrote on the entity's scored profiles, by key, found through the
    `leadScore` index; `readyAt` in epoch millis (hydrating DateTimes costs more than the
    rest of the read; runs write millisecond times, so nothing is lost)."""
    p = "p"
    values = ", ".join(
        f"{p}.{q(prop)}" for prop in (entity.key, a.LEAD_SCORE, a.LEAD_GRADE, a.SALES_READY)
    )
    text = (
        f"MATCH ({p}:{q(entity.label)}) WHERE {p}.{q(a.LEAD_SCORE)} IS NOT NULL "
        f"RETURN collect([{values}, {p}.{q(a.SALES_READY_AT)}.epochMillis, "
        f"{p}.{q(a.RULE_POINTS)}, {p}.{q(a.SCORED_BY)}]) AS rows"
    )
    found = (await execute_read(db, text, {}, RUN_QUERY_TIMEOUT_S))[0]["rows"]
    names = ("score", "grade", "ready", "readyAt", "rules", "scoredBy")
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in found}


def _write_text(entity: Entity) -> str:
    return (
        f"UNWIND $rows AS row MATCH (p:{q(entity.label)} {{{q(entity.key)}: row.key}}) "
        f"SET p.{q(a.LEAD_SCORE)} = row.score, p.{q(a.LEAD_GRADE)} = row.grade, "
        f"p.{q(a.SALES_READY)} = row.ready, p.{q(a.SALES_READY_AT)} = row.readyAt, "
        f"p.{q(a.RULE_POINTS)} = row.rules, p.{q(a.SCORED_BY)} = row.scoredBy"
    )


HISTORY = (
    "UNWIND $rows AS row WITH row WHERE row.historic "
    "CREATE (:_ScoreHistory {modelId: $modelId, key: row.key, at: $at, version: $version, "
    " score: row.score, grade: row.grade, salesReady: coalesce(row.ready, false)})"
)


async def write_scores(
    db: Db, entity: Entity, model_id: str, version: int, rows: list[dict[str, Any]], at: datetime
) -> None:
    """One batch: the profiles' new values and, for the rows marked `historic`, a history
    entry, in one transaction (a batch is written whole or not at all)."""

    async def work(tx: Tx) -> None:
        await (await tx.run(_write_text(entity), {"rows": rows})).consume()
        params = {"rows": rows, "modelId": model_id, "at": at, "version": version}
        await (await tx.run(HISTORY, params)).consume()

    await db.write(work)


async def record_run(db: Db, run: ScoreRunRecord) -> None:
    async def work(tx: Tx) -> None:
        await tx.run(
            "CREATE (:_ScoreRun {id: $id, modelId: $modelId, version: $version, at: $at, "
            " scored: $scored, changed: $changed, cleared: $cleared, "
            " newlySalesReady: $ready, seconds: $seconds}) "
            "WITH 1 AS one MATCH (m:_ScoreModel {id: $modelId}) SET m.lastRunAt = $at",
            id=run.id, modelId=run.model_id, version=run.version, at=run.at, scored=run.scored,
            changed=run.changed, cleared=run.cleared, ready=run.newly_sales_ready,
            seconds=run.seconds,
        )  # fmt: skip

    await db.write(work)
