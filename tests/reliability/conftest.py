"""Fixtures of the fault tests: the real Neo4j (emptied and held, see `empty_graph`) through the
store's and the refresh engine's own doors, and an emptied Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import neo4j
import pytest

from server.refresh.graph import Graph
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.store import Db, ensure_schema


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def stores(empty_graph: neo4j.Driver, settings: Settings) -> AsyncIterator[tuple[Db, Graph]]:
    """(the API store's Db, the refresh engine's Graph) on one async driver, schema created."""
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    )
    db, graph = Db(driver, settings.neo4j_database), Graph(driver, settings.neo4j_database)
    await ensure_schema(db)
    await ensure_refresh_schema(graph)
    yield db, graph
    await driver.close()

