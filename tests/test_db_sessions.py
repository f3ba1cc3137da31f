"""Db.sessions: requests past the pool wait their turn for a Neo4j session in our queue (in
order, bounded by the request's deadline) instead of in the driver's pool, whose acquisition
timeout is meant for a Neo4j that does not answer and failed them under mere load."""

from __future__ import annotations

import asyncio

import neo4j
import pytest
from neo4j import AsyncGraphDatabase
from neo4j.exceptions import ConnectionAcquisitionTimeoutError

from server.settings import Settings
from server.store import Db
from server.store.db import Tx

pytestmark = pytest.mark.anyio

POOL = 2
READS = 12
# ~0.2 s of Neo4j work: 12 reads through 2 connections take over a second, far past the
# acquisition timeout below for the last ones in line.
ROWS = 4_000_000
SLOW = "UNWIND range(1, $rows) AS i WITH i WHERE i % 7 = 0 RETURN count(*) AS n"


async def _reads(settings: Settings, sessions: asyncio.Semaphore | None) -> list[object]:
    driver = AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password),
        max_connection_pool_size=POOL, connection_acquisition_timeout=0.3,
    )  # fmt: skip
    db = Db(driver, settings.neo4j_database, read_retry_s=0, sessions=sessions)
    try:
        reads = (db.read(SLOW, rows=ROWS) for _ in range(READS))
        return await asyncio.gather(*reads, return_exceptions=True)
    finally:
        await driver.close()


async def test_reads_past_the_pool_wait_their_turn(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    raced = await _reads(settings, None)
    assert any(isinstance(r, ConnectionAcquisitionTimeoutError) for r in raced)
    queued = await _reads(settings, asyncio.Semaphore(POOL))
    assert [r for r in queued if isinstance(r, BaseException)] == []
    assert {r[0]["n"] for r in queued if isinstance(r, list)} == {ROWS // 7}


async def test_a_read_inside_a_write_does_not_wait_for_a_second_turn(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    """With every turn taken by writes that read inside their work, a second turn for the
    read would never come."""
    driver = AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    )
    db = Db(driver, settings.neo4j_database, sessions=asyncio.Semaphore(2))

    async def work(tx: Tx) -> int:
        found = await db.read("RETURN 1 AS n")
        return int(found[0]["n"])

    try:
        done = await asyncio.wait_for(asyncio.gather(*(db.write(work) for _ in range(4))), 20)
    finally:
        await driver.close()
    assert done == [1, 1, 1, 1]
