"""What queues export runs besides runExport: the worker's minute tick (due SCHEDULE exports,
and queued runs whose job Redis lost) and a successful refresh of a carried segment."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import neo4j
from arq.connections import RedisSettings, create_pool
from arq.jobs import Job, JobStatus

from server.exports.jobs import export_tick
from server.settings import Settings
from server.store.db import Db
from tests.api.conftest import Api, create_ok
from tests.exports.conftest import (
    create_export_ok,
    drain,
    export_by_name,
    run_ok,
)

FOLDER = {"kind": "FOLDER_CSV", "path": "out"}
DAILY = {"kind": "SCHEDULE", "cron": "0 6 * * *", "timezone": "Europe/Paris"}


async def _tick(settings: Settings, now: datetime) -> tuple[list[str], list[JobStatus]]:
    """One tick at `now`; returns the exports it queued and the status of every queued job."""
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth)
    try:
        queued = await export_tick(pool, Db(driver, settings.neo4j_database), now)
        jobs = [Job(str(j.job_id), pool) for j in await pool.queued_jobs()]
        return queued, [await j.status() for j in jobs]
    finally:
        await driver.close()
        await pool.aclose()


def _flush_redis(settings: Settings) -> None:
    async def flush() -> None:
        pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        await pool.flushdb()
        await pool.aclose()

    asyncio.run(flush())


def test_the_tick_queues_due_scheduled_exports_once(api: Api, export_settings: Settings) -> None:
    seg = create_ok(api, name="oslo")
    daily = create_export_ok(api, name="daily", segmentIds=[seg["id"]], destination=FOLDER,
                             trigger=DAILY)  # fmt: skip
    create_export_ok(api, name="off", segmentIds=[seg["id"]], destination=FOLDER,
                     trigger=DAILY, active=False)  # fmt: skip
    create_export_ok(api, name="manual", segmentIds=[seg["id"]], destination=FOLDER)
    now = datetime.now(UTC)

    assert asyncio.run(_tick(export_settings, now)) == (
        [],
        [],
    )  # created just now: nothing came due yet
    later = now + timedelta(days=2)
    queued, statuses = asyncio.run(_tick(export_settings, later))
    assert len(queued) == 1
    assert statuses == [JobStatus.queued]
    assert asyncio.run(_tick(export_settings, later)) == ([], [JobStatus.queued])  # handled
    drain(export_settings)

    [run] = export_by_name(api, "daily")["runs"]
    assert (run["status"], run["trigger"]) == ("SUCCEEDED", "SCHEDULE")
    assert export_by_name(api, "off")["runs"] == []
    assert export_by_name(api, "manual")["runs"] == []
    assert daily["trigger"] == {"kind": "SCHEDULE", "cron": "0 6 * * *",
                                "timezone": "Europe/Paris"}  # fmt: skip


def test_the_tick_queues_again_a_run_whose_job_was_lost(
    api: Api, export_settings: Settings
) -> None:
    seg = create_ok(api, name="oslo")
    export = create_export_ok(api, name="weekly", segmentIds=[seg["id"]], destination=FOLDER)
    run = run_ok(api, export["id"])["run"]
    _flush_redis(export_settings)  # Redis restarted empty: the job is gone, the run QUEUED
    queued, statuses = asyncio.run(_tick(export_settings, datetime.now(UTC)))
    assert (queued, statuses) == ([], [JobStatus.queued])
    drain(export_settings)
    [done] = export_by_name(api, "weekly")["runs"]
    assert (done["number"], done["status"]) == (run["number"], "SUCCEEDED")


REFRESH = "mutation($ids: [ID!]!) { refreshSegments(ids: $ids) { jobId userErrors { code } } }"


def test_a_successful_refresh_queues_its_after_refresh_exports(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings, root: Path
) -> None:
    empty_graph.execute_query(
        "UNWIND range(1, 30) AS i CREATE (:Customer {customerId: 'c' + toString(100 + i), "
        " name: 'n' + i, city: CASE WHEN i % 3 = 0 THEN 'Oslo' ELSE 'Bergen' END})"
    )
    oslo = create_ok(api, name="oslo")
    create_export_ok(api, name="after", segmentIds=[oslo["id"]], destination=FOLDER,
                     columns=["city"], trigger={"kind": "AFTER_REFRESH"})  # fmt: skip
    create_export_ok(api, name="manual", segmentIds=[oslo["id"]], destination=FOLDER)
    assert api.data(REFRESH, ids=[oslo["id"]])["refreshSegments"]["userErrors"] == []
    drain(export_settings, refresh=True)  # the refresh, then the export it queued

    [run] = export_by_name(api, "after")["runs"]
    assert (run["status"], run["trigger"], run["rows"]) == ("SUCCEEDED", "AFTER_REFRESH", 10)
    rows = list(csv.reader((root / run["segments"][0]["file"]).open(encoding="utf-8")))
    assert rows[0] == ["key", "city"]
    assert sorted(r[0] for r in rows[1:]) == sorted(f"c{100 + i}" for i in range(3, 31, 3))
    assert {r[1] for r in rows[1:]} == {"Oslo"}
    assert export_by_name(api, "manual")["runs"] == []
