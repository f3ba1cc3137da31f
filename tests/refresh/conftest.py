"""Fixtures for refresh tests: an async Graph on the emptied, locked Neo4j, an emptied Redis
pool, and a factory for real arq workers running the refresh tasks in burst mode."""

from __future__ import annotations

import fcntl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import neo4j
import pytest
from arq.connections import ArqRedis
from arq.worker import Worker

from server.refresh.config import RefreshSettings
from server.refresh.graph import Graph
from server.refresh.progress import redis_publisher
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.worker import refresh_functions, shutdown, startup
from tests.refresh.helpers import literal_compiler

RunWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def graph(
    neo4j_driver: neo4j.Driver, graph_lock_path: Path, settings: Settings
) -> AsyncIterator[Graph]:
    """An empty graph held exclusively (the shared lock of `empty_graph`), emptied of data but
    not of indexes: dropping them would also flush Neo4j's plan cache and make every test
    plan its queries cold."""
    with graph_lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with neo4j_driver.session() as session:
                session.run(
                    "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                ).consume()
            auth = (settings.neo4j_user, settings.neo4j_password)
            driver = neo4j.AsyncGraphDatabase.driver(
                settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
            )
            g = Graph(driver, settings.neo4j_database)
            await ensure_refresh_schema(g)
            yield g
            await driver.close()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)



@pytest.fixture
def env(graph: Graph, arq_redis: ArqRedis) -> RefreshEnv:
    """Domain-level environment with a short lease, small batches and two kept versions."""
    return RefreshEnv(
        graph=graph,
        compiler=literal_compiler,
        publish=redis_publisher(arq_redis),
        lease_ms=1500,
        busy_wait_s=5,
        batch_size=50,
        keep_versions=2,
    )


@pytest.fixture
def run_worker(arq_redis: ArqRedis, graph: Graph) -> RunWorker:
    """Run a real arq worker over the queue until it is empty (startup reconciles first)."""

    async def run(**overrides: Any) -> Worker:
        values: dict[str, Any] = {"lease_ms": 1500, "busy_wait_s": 5, "batch_size": 50}
        refresh = RefreshSettings(**(values | overrides))
        worker = Worker(
            functions=refresh_functions(refresh),
            redis_pool=arq_redis,
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
            on_startup=startup,
            on_shutdown=shutdown,
            ctx={"compiler": literal_compiler, "refresh_settings": refresh},
        )
        try:
            await worker.main()
        finally:
            await shutdown(worker.ctx)  # drivers only: the shared pool stays open
        return worker

    return run
