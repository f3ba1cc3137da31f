"""The refresh engine's one door to Neo4j: an async driver plus the database name.

Reads go through `read` (routed to readers on a cluster); each write is one managed transaction
(`write`), which the driver retries as a whole on transient errors, so units of work must be
idempotent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction, AsyncSession, Record, RoutingControl

from graph_schema import quote_identifier

T = TypeVar("T")
Tx = AsyncManagedTransaction


@dataclass(frozen=True, slots=True)
class Graph:
    driver: AsyncDriver
    database: str

    async def read(self, query: LiteralString, **params: Any) -> list[Record]:
        """Records of one read query. Raises neo4j errors as they come."""
        result = await self.driver.execute_query(
            query, params, routing_=RoutingControl.READ, database_=self.database
        )
        return list(result.records)

    async def read_with(self, query: LiteralString, params: dict[str, Any]) -> list[Record]:
        """Like `read`, with parameters as a dict (compiled queries name their own)."""
        result = await self.driver.execute_query(
            query, params, routing_=RoutingControl.READ, database_=self.database
        )
        return list(result.records)

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one write transaction (retried whole on transient errors)."""
        async with self._session() as session:
            return await session.execute_write(work)

    async def auto(self, query: LiteralString, **params: Any) -> None:
        """One auto-commit statement (schema commands, CALL IN TRANSACTIONS)."""
        async with self._session() as session:
            await (await session.run(query, params)).consume()

    def _session(self) -> AsyncSession:
        # Sessions share execute_query's bookmarks, so on a cluster a read that follows a
        # write (a compound segment reading its input's new version) sees that write.
        bookmarks = self.driver.execute_query_bookmark_manager
        return self.driver.session(database=self.database, bookmark_manager=bookmarks)


async def rows(tx: Tx, query: LiteralString, **params: Any) -> list[Record]:
    """All records of one query inside a transaction."""
    result = await tx.run(query, params)
    return [r async for r in result]


def with_identifiers(template: LiteralString, **names: str) -> LiteralString:
    """Fill `{label}`-style slots with quoted identifiers taken from validated schema objects.

    Raises ValueError for a name no quoting can make safe (see `quote_identifier`).
    """
    # Safe as a literal: every inserted piece went through quote_identifier (mypy reads
    # LiteralString as str, so no cast is needed; the annotation documents the promise).
    # Plain replace rather than str.format: Cypher maps use braces too.
    text = template
    for slot, name in names.items():
        text = text.replace("{" + slot + "}", quote_identifier(name))
    return text


def compiled(text: str) -> LiteralString:
    """A query printed by the segment compiler (identifiers quoted, values as $parameters)."""
    return text
