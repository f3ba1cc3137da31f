"""Training and scoring runs on arq. `trainLeadModel` enqueues `train_lead_model` as
`train:{model id}` and `runLeadModel` / the minute tick `score_lead_model` as
`predict:{model id}:{published version}`: a second request while one waits or runs is a
no-op. Progress goes to Redis as refreshes' does (`lead-model:progress:{kind}:{model id}`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis

from server.predict import store
from server.predict.store import LeadModelRecord
from server.predict.train import Publish
from server.refresh.jobs import enqueue_once
from server.refresh.progress import state_publisher
from server.refresh.schedules import InvalidSchedule, fires_between
from server.store.db import Db

TRAIN = "train_lead_model"
SCORE = "score_lead_model"
CHANNEL = "lead-model:progress"


def train_job_id(model_id: str) -> str:
    return f"train:{model_id}"


def score_job_id(model_id: str, version: int) -> str:
    return f"predict:{model_id}:{version}"


async def request_training(arq: ArqRedis, model_id: str, actor: str) -> tuple[str, bool]:
    job_id = train_job_id(model_id)
    return job_id, await enqueue_once(arq, job_id, TRAIN, model_id, actor)


async def request_scoring(arq: ArqRedis, model: LeadModelRecord) -> tuple[str, bool] | None:
    """None when no version is published."""
    if model.published_version is None:
        return None
    job_id = score_job_id(model.id, model.published_version)
    return job_id, await enqueue_once(arq, job_id, SCORE, model.id)


async def score_tick(arq: ArqRedis, db: Db, now: datetime) -> list[str]:
    """Queue the published models whose schedule came due (every 2 hours by default)."""
    due = []
    for model in await store.published_models(db):
        try:
            if fires_between(model.schedule_cron, "UTC", model.last_scheduled_at
                             or model.created_at, now):  # fmt: skip
                due.append(model)
        except InvalidSchedule:
            continue
    for model in due:
        await request_scoring(arq, model)
    if due:
        await store.mark_scheduled(db, [m.id for m in due], now)
    return [m.id for m in due]


def progress_key(kind: str, model_id: str) -> str:
    return f"lead-model:progress:{kind}:{model_id}"


def redis_publisher(redis: Redis) -> Publish:
    return state_publisher(redis, CHANNEL, lambda e: progress_key(e["kind"], e["modelId"]))


async def read_progress(redis: Redis, kind: str, model_id: str) -> dict[str, Any] | None:
    raw = await redis.get(progress_key(kind, model_id))
    return None if raw is None else dict(json.loads(raw))
