"""Exports through the real app over HTTP, with the export root in a temp folder, and a real
arq worker (burst mode) that runs the queued export jobs on the real Neo4j and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker

from graph_schema import default_schema
from server.exports.runner import ExportEnv
from server.exports.writers import HttpPolicy
from server.settings import Settings
from server.store.db import Db
from server.worker import export_functions, refresh_functions, shutdown, startup
from tests.api.conftest import Api, running
from tests.api.test_members import node_id

Json = dict[str, Any]

CREATE = """
mutation($input: CreateExportInput!) {
  createExport(input: $input) {
    export { id name state columns destination { kind path url headerNames }
             trigger { kind cron timezone } segments { name } }
    userErrors { code field message }
  }
}
"""

RUN = """
mutation($id: ID!) {
  runExport(id: $id) { run { id number status trigger jobId } queued userErrors { code field } }
}
"""

EXPORT = """
query($name: String!) {
  export(name: $name) {
    id status lostSegments segments { name }
    runs { number status trigger error rows startedAt finishedAt
           segments { name rows file segmentId } }
  }
}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def export_settings(settings: Settings, root: Path) -> Settings:
    return settings.model_copy(update={"export_root": root})


@pytest.fixture
def api(empty_graph: neo4j.Driver, export_settings: Settings) -> Iterator[Api]:
    asyncio.run(_flush(export_settings))
    with running(export_settings) as client:
        yield client


async def _flush(settings: Settings) -> None:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    await pool.flushdb()
    await pool.aclose()


def drain(settings: Settings, batch_size: int = 700, *, refresh: bool = False) -> Worker:
    """Run a real arq worker over the queue until it is empty (export jobs, and refresh jobs
    too when `refresh`, with the worker's own startup)."""
    return asyncio.run(_drain(settings, batch_size, refresh))


async def _drain(settings: Settings, batch_size: int, refresh: bool) -> Worker:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth)
    env = ExportEnv(
        db=Db(driver, settings.neo4j_database), schema=default_schema(),
        root=settings.exports_dir, batch_size=batch_size,
        http=HttpPolicy(timeout_s=5, tries=3, backoff_s=0.01),
    )  # fmt: skip
    functions = export_functions()
    if refresh:
        from server.refresh.config import RefreshSettings

        functions += refresh_functions(RefreshSettings(busy_wait_s=5))
    worker = Worker(
        functions=functions, redis_pool=pool, burst=True, poll_delay=0.05,
        handle_signals=False, ctx={"export_env": env},
        on_startup=startup if refresh else None, on_shutdown=shutdown if refresh else None,
    )  # fmt: skip
    try:
        await worker.main()
    finally:
        if refresh:
            await shutdown(worker.ctx)
        await driver.close()
        await pool.aclose()
    return worker


def add_members(driver: neo4j.Driver, segment_gid: str, people: list[Json]) -> None:
    """Customers as members of the segment's active version 1 (each a dict of properties)."""
    driver.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1, "
        "  s.memberCount = size($people) "
        "WITH s UNWIND $people AS person CREATE (p:Customer) SET p = person "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: p.customerId, since: 1}]->(p)",
        id=node_id(segment_gid),
        people=people,
    )


def people(prefix: str, count: int, **extra: Any) -> list[Json]:
    return [
        {"customerId": f"{prefix}{i:05d}", "name": f"n{i}", "city": "Oslo", "satisfaction": i,
         **extra}
        for i in range(1, count + 1)
    ]  # fmt: skip


def create_export(api: Api, **fields: Any) -> Json:
    result: Json = api.data(CREATE, input=fields)["createExport"]
    return result


def create_export_ok(api: Api, **fields: Any) -> Json:
    payload = create_export(api, **fields)
    assert payload["userErrors"] == []
    export: Json = payload["export"]
    return export


def run_ok(api: Api, export_id: str) -> Json:
    payload: Json = api.data(RUN, id=export_id)["runExport"]
    assert payload["userErrors"] == []
    return payload


def export_by_name(api: Api, name: str) -> Json:
    found: Json = api.data(EXPORT, name=name)["export"]
    return found
