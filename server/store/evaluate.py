"""The one read-only entry point for compiled segment queries (estimates and previews).

Queries run in read transactions (Neo4j refuses writes there) with a transaction timeout, so
an expensive definition cannot hold the API longer than its budget.
"""

from __future__ import annotations

from typing import Any

from neo4j import Record, unit_of_work
from neo4j.exceptions import ClientError

from server.store.db import Db, Tx


class QueryTimedOut(Exception):
    """The query did not finish within its budget."""


async def execute_read(db: Db, text: str, params: dict[str, Any], timeout_s: float) -> list[Record]:
    """Run one compiled (parameterised) query read-only. Raises QueryTimedOut."""

    @unit_of_work(timeout=timeout_s)
    async def work(tx: Tx) -> list[Record]:
        result = await tx.run(text, params)  # compiled by grammar: values are all parameters
        return [r async for r in result]

    try:
        return await db.read_tx(work)
    except ClientError as exc:
        if "TimedOut" in (exc.code or ""):
            raise QueryTimedOut(text) from exc
        raise
