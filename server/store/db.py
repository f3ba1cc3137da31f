"""The one wrapper around the async Neo4j driver: reads routed to readers, writes in one
transaction each (the driver retries the whole unit of work on transient errors)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar

from neo4j import AsyncDriver, AsyncManagedTransaction, Record, RoutingControl

T = TypeVar("T")
Tx = AsyncManagedTransaction


@dataclass(frozen=True, slots=True)
class Db:
    driver: AsyncDriver
    database: str

    async def read(self, query: LiteralString, **params: Any) -> list[Record]:
        """Run one read query (routed to a reader on a cluster) and return its records."""
        result = await self.driver.execute_query(
            query, params, routing_=RoutingControl.READ, database_=self.database
        )
        return list(result.records)

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one write transaction: all of it is committed or none."""
        async with self.driver.session(database=self.database) as session:
            return await session.execute_write(work)

    async def read_tx(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one read transaction (several queries, one snapshot)."""
        async with self.driver.session(database=self.database) as session:
            return await session.execute_read(work)

    async def auto(self, query: LiteralString, **params: Any) -> None:
        """One auto-commit statement (`CALL ... IN TRANSACTIONS` needs one)."""
        async with self.driver.session(database=self.database) as session:
            await (await session.run(query, params)).consume()

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        await self.driver.execute_query(
            "RETURN 1", routing_=RoutingControl.READ, database_=self.database
        )


async def rows(tx: Tx, query: LiteralString, **params: Any) -> list[Record]:
    """All records of one query inside a transaction."""
    result = await tx.run(query, params)
    return [r async for r in result]
