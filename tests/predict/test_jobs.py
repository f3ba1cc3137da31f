"""The predictive models' schedule on the real Neo4j and Redis: the worker's minute tick
queues a published model's scoring job when its cron comes due, once, and never a model that
is not published; publishing a second model of the same entity is refused."""

from __future__ import annotations

from datetime import timedelta

import neo4j
import pytest
from arq.connections import RedisSettings, create_pool

from server.predict import jobs, store
from server.predict.spec import PredictSpec
from server.settings import Settings
from server.store import Db
from tests.leads.conftest import NOW
from tests.leads.test_run import run

SPEC = PredictSpec(audience="Customer", outcome="newsletter")


def test_the_tick_queues_published_models_when_due(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    async def work(db: Db) -> list[list[str]]:
        one = await store.create_model(db, "m1", "one", "", SPEC, "Customer", (), "t", NOW)
        await store.create_model(db, "m2", "two", "", SPEC, "Customer", (), "t", NOW)
        await store.publish_version(db, one.id, 1, NOW)
        with pytest.raises(store.EntityTaken):
            await store.publish_version(db, "m2", 1, NOW)
        arq = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        try:
            await arq.flushdb()
            ticks = [await jobs.score_tick(arq, db, NOW + timedelta(minutes=m))
                     for m in (59, 60, 61)]  # fmt: skip
            ticks.append(await jobs.score_tick(arq, db, NOW + timedelta(hours=2, minutes=1)))
            queued = [j.job_id for j in await arq.queued_jobs()]
        finally:
            await arq.aclose()
        assert queued == [jobs.score_job_id("m1", 1)]  # once: the later tick found it waiting
        return ticks

    # NOW is 12:00; the 2-hour cron fires at 14:00: not at 12:59 or 13:00/13:01, then once
    assert run(settings, work) == [[], [], [], ["m1"]]
