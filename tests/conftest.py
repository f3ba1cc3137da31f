"""Shared fixtures: the real Neo4j and Redis started by `./dev services up` (never mocks)."""

from __future__ import annotations

from collections.abc import Iterator

import neo4j
import pytest

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
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    for rec in driver.execute_query("SHOW CONSTRAINTS YIELD name").records:
        driver.execute_query(f"DROP CONSTRAINT `{rec['name']}` IF EXISTS")
    for rec in driver.execute_query(
        "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name"
    ).records:
        driver.execute_query(f"DROP INDEX `{rec['name']}` IF EXISTS")


@pytest.fixture
def empty_graph(neo4j_driver: neo4j.Driver) -> neo4j.Driver:
    """A driver on an empty database; use for tests that import their own data."""
    wipe_graph(neo4j_driver)
    return neo4j_driver
