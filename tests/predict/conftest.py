"""The demo's leads as profiles: the default schema with `Lead` made a profile entity (a CRM
whose leads are the people sales call), the lead part of the demo imported into it, and a
real arq worker for training and scoring jobs."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import replace
from pathlib import Path

import neo4j
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker, func

from bench.scoring.lead_demo import LEAD_ENTITIES
from graph_schema import GraphSchema, load_schema
from graph_schema.demo import generate_demo
from graph_schema.importer import import_directory
from server.leads.run import ScoreEnv
from server.leads.schema_attributes import with_score_attributes
from server.predict.jobs import redis_publisher
from server.predict.train import PredictEnv
from server.settings import Settings
from server.store.db import Db
from server.worker import score_lead_model, score_model, train_lead_model

DEFAULT = Path(__file__).resolve().parents[2] / "graph_schema" / "default.yaml"


def write_lead_schema(folder: Path) -> Path:
    """default.yaml with `Lead` as a profile entity."""
    text = DEFAULT.read_text(encoding="utf-8")
    marked = text.replace("    key: leadId\n", "    key: leadId\n    profile: true\n", 1)
    assert marked != text
    path = folder / "leads_schema.yaml"
    path.write_text(marked, encoding="utf-8")
    return path


def import_demo(driver: neo4j.Driver, schema_file: Path, folder: Path, customers: int) -> None:
    """The demo's lead part (customers, sessions, emails, events, leads), dated today so the
    workers' real clock reads it as the generator meant."""
    generate_demo(folder, customers=customers, seed=3, today=dt.datetime.now(dt.UTC).date())
    full = load_schema(schema_file)
    cut: GraphSchema = replace(
        full,
        entities=tuple(e for e in full.entities if e.name in LEAD_ENTITIES),
        relationships=tuple(r for r in full.relationships
                            if r.source in LEAD_ENTITIES and r.target in LEAD_ENTITIES),
    )  # fmt: skip
    import_directory(driver, cut, folder)


def drain(settings: Settings) -> None:
    """A real arq worker (burst) over the queue until it is empty."""

    async def main() -> None:
        pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        )
        assert settings.schema_file is not None
        schema = with_score_attributes(load_schema(settings.schema_file))
        db = Db(driver, settings.neo4j_database)
        ctx = {"predict_env": PredictEnv(db=db, schema=schema, publish=redis_publisher(pool)),
               "score_env": ScoreEnv(db=db, schema=schema)}  # fmt: skip
        functions = [func(f, max_tries=1) for f in (train_lead_model, score_lead_model,
                                                    score_model)]  # fmt: skip
        worker = Worker(functions=functions, redis_pool=pool, burst=True, poll_delay=0.05,
                        handle_signals=False, ctx=ctx)  # fmt: skip
        try:
            await worker.main()
            assert worker.jobs_failed == 0
        finally:
            await driver.close()
            await pool.aclose()

    asyncio.run(main())
