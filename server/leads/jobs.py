"""Scoring runs on arq: `runScoreModel` and the worker's minute tick enqueue `score_model`
under the deterministic job id `score:{model id}:{published version}`, so a double request
while one waits or runs is a no-op."""

from __future__ import annotations

from datetime import datetime

from arq.connections import ArqRedis
from redis.asyncio import Redis

from server.leads import store
from server.leads.records import ScoreModelRecord
from server.leads.run import Publish
from server.refresh.jobs import enqueue_once
from server.refresh.progress import state_publisher
from server.refresh.schedules import InvalidSchedule, fires_between
from server.store.db import Db

SCORE_MODEL = "score_model"
CHANNEL = "score:progress"


def score_job_id(model_id: str, version: int) -> str:
    return f"score:{model_id}:{version}"


async def request_score_run(arq: ArqRedis, model: ScoreModelRecord) -> tuple[str, bool] | None:
    """Enqueue a run of the published version: (job id, newly enqueued). None when the model
    is not published."""
    if model.published_version is None:
        return None
    job_id = score_job_id(model.id, model.published_version)
    return job_id, await enqueue_once(arq, job_id, SCORE_MODEL, model.id)


def is_due(model: ScoreModelRecord, now: datetime) -> bool:
    after = model.last_scheduled_at or model.created_at
    try:
        return fires_between(model.schedule_cron, "UTC", after, now)
    except InvalidSchedule:
        return False


async def score_tick(arq: ArqRedis, db: Db, now: datetime) -> list[str]:
    """The worker's minute tick: queue the published models whose schedule came due (every
    2 hours by default). Returns their ids."""
    due = [m for m in await store.published_models(db) if is_due(m, now)]
    for model in due:
        await request_score_run(arq, model)
    if due:
        await store.mark_scheduled(db, [m.id for m in due], now)
    return [m.id for m in due]


def progress_key(model_id: str) -> str:
    return f"score:progress:{model_id}"


def redis_publisher(redis: Redis) -> Publish:
    """A scoring run's progress, per model, published as a refresh's is."""
    return state_publisher(redis, CHANNEL, lambda event: progress_key(event["modelId"]))
