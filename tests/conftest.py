"""Shared fixtures: the real Neo4j and Redis started by `./dev services up` (never mocks)."""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import neo4j
import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool

from server.settings import Settings, get_settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def neo4j_driver(settings: Settings) -> Iterator[neo4j.Driver]:
    driver = neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    )
    try:
        driver.verify_connectivity()
    except Exception as exc:  # a clear failure, not a skip: these tests need the real engine
        pytest.fail(f"Neo4j is not reachable at {settings.neo4j_uri}: {exc}. Run ./dev services up")
    yield driver
    driver.close()


def wipe_graph(driver: neo4j.Driver) -> None:
    """Empty the database, constraints and indexes included (Community has one user database)."""
    with driver.session() as session:  # CALL IN TRANSACTIONS needs an auto-commit transaction
        # Relationships first, in batches: DETACH DELETE of a node with 150k memberships (a
        # benchmark's segment) holds them all in one transaction and ran out of a 1 GB heap.
        session.run(
            "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS"
        ).consume()
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    for rec in driver.execute_query("SHOW CONSTRAINTS YIELD name").records:
        driver.execute_query(f"DROP CONSTRAINT `{rec['name']}` IF EXISTS")
    for rec in driver.execute_query(
        # Indexes that back a constraint go with it; another process may have made one since.
        "SHOW INDEXES YIELD name, type, owningConstraint "
        "WHERE type <> 'LOOKUP' AND owningConstraint IS NULL RETURN name"
    ).records:
        driver.execute_query(f"DROP INDEX `{rec['name']}` IF EXISTS")


def lock_path(port: int | str) -> Path:
    return Path(tempfile.gettempdir()) / f"segments-neo4j-{port}.lock"


@contextmanager
def graph_lock(port: int | str) -> Iterator[None]:
    """Exclusive use of the Neo4j on `port` among processes that wipe or load it (test runs,
    benchmarks): Community Edition has one user database."""
    with lock_path(port).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def graph_lock_path(settings: Settings) -> Path:
    return lock_path(settings.neo4j_uri.rsplit(":", 1)[-1])


@pytest.fixture
def empty_graph(neo4j_driver: neo4j.Driver, settings: Settings) -> Iterator[neo4j.Driver]:
    """A driver on an empty database, held exclusively for the test.

    Community Edition has one user database, so test runs in other processes that share this
    Neo4j (several developers' runs on one machine) wait on a file lock instead of wiping each
    other's data mid-test.
    """
    with graph_lock(settings.neo4j_uri.rsplit(":", 1)[-1]):
        wipe_graph(neo4j_driver)
        yield neo4j_driver


@pytest.fixture
async def arq_redis(settings: Settings) -> AsyncIterator[ArqRedis]:
    """The arq pool of REDIS_URL, emptied before and after the test."""
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()
