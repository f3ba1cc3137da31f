"""The one wrapper around the async Neo4j driver: reads routed to readers, writes in one
transaction each (the driver retries the whole unit of work on transient errors)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, LiteralString, TypeVar

from neo4j import READ_ACCESS, AsyncDriver, AsyncManagedTransaction, Record
from neo4j.exceptions import DriverError, Neo4jError

T = TypeVar("T")
Tx = AsyncManagedTransaction


def _retry_delays() -> Iterator[float]:
    """The driver's own schedule for managed transactions: 1 s, doubling, +-20 % jitter."""
    delay = 1.0
    while True:
        yield delay * random.uniform(0.8, 1.2)
        delay *= 2


# Whether this task (or the task that started it) holds a turn already: a call made while
# holding one, such as a read inside a write's work, goes on without a second turn, which it
# could wait for forever once every turn is held by callers like it.
_HOLDS_TURN: ContextVar[bool] = ContextVar("holds_db_turn", default=False)
_NO_TURN = contextlib.nullcontext()


class _Turn:
    __slots__ = ("_sessions", "_token")

    def __init__(self, sessions: asyncio.Semaphore) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> None:
        await self._sessions.acquire()
        self._token = _HOLDS_TURN.set(True)

    async def __aexit__(self, *_: object) -> None:
        _HOLDS_TURN.reset(self._token)
        self._sessions.release()


@dataclass(frozen=True, slots=True)
class Db:
    driver: AsyncDriver
    database: str
    read_retry_s: float = 30.0  # the driver's default max_transaction_retry_time
    # Sessions at once, the rest waiting their turn in order. Without it, the driver's pool
    # is the queue: each release wakes every waiter and whichever runs first wins, so under
    # load a request could wait past the acquisition timeout while later ones went by (0.4 %
    # of requests failed at 200 clients). Keep it below the pool size: what bypasses it
    # (readiness pings, the refresh helpers) needs connections too.
    sessions: asyncio.Semaphore | None = None

    def _turn(self) -> AbstractAsyncContextManager[object]:
        if self.sessions is None or _HOLDS_TURN.get():
            return _NO_TURN
        return _Turn(self.sessions)

    async def read(self, query: LiteralString, **params: Any) -> list[Record]:
        """Run one read query (routed to a reader on a cluster) and return its records.

        An auto-commit statement, retried like a managed transaction on retryable errors for
        `read_retry_s`: one round trip (RUN and PULL) where a transaction takes two (BEGIN with
        RUN and PULL, then COMMIT), which is a quarter of the driver's CPU per API read. For one
        read statement the isolation is the same."""
        delays, started = _retry_delays(), -1.0
        while True:
            try:
                return await self._read_once(query, params)
            except (DriverError, Neo4jError) as exc:
                if not exc.is_retryable():
                    raise
                now = time.monotonic()
                started = now if started < 0 else started
                if now - started > self.read_retry_s:
                    raise
            await asyncio.sleep(next(delays))

    async def _read_once(self, query: LiteralString, params: dict[str, Any]) -> list[Record]:
        async with (
            self._turn(),
            self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as session,
        ):
            result = await session.run(query, params)
            return [record async for record in result]

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one write transaction: all of it is committed or none."""
        async with self._turn(), self.driver.session(database=self.database) as session:
            return await session.execute_write(work)

    async def read_tx(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one read transaction. Neo4j reads are read-committed, not a snapshot:
        a later query may see a commit an earlier one did not, so pass versions along."""
        async with self._turn(), self.driver.session(database=self.database) as session:
            return await session.execute_read(work)

    async def auto(self, query: LiteralString, **params: Any) -> None:
        """One auto-commit statement (`CALL ... IN TRANSACTIONS` needs one)."""
        async with self._turn(), self.driver.session(database=self.database) as session:
            await (await session.run(query, params)).consume()

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query. Auto-commit, so one round trip
        where a transaction takes two: through a link that adds 200 ms each way, a ping that
        also opens a connection (handshake, HELLO, LOGON) took 2.2 s as a transaction and 1.8 s
        like this. Outside the session queue, so a busy API still answers readiness."""
        async with self.driver.session(
            database=self.database, default_access_mode=READ_ACCESS
        ) as session:
            await (await session.run("RETURN 1")).consume()


async def rows(tx: Tx, query: LiteralString, **params: Any) -> list[Record]:
    """All records of one query inside a transaction."""
    result = await tx.run(query, params)
    return [r async for r in result]
