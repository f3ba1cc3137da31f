"""Export runs on arq: what asks for a run (the API, the worker's schedule tick, a successful
refresh) records it first, then enqueues `run_export` under the run's deterministic job id
`export:{export id}:{run number}`; a pending run absorbs repeated requests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from arq.connections import ArqRedis

from server.exports import runs, store
from server.exports.records import ExportRecord, ExportRunRecord, ExportRunStatus, TriggerKind
from server.refresh.jobs import enqueue_once
from server.refresh.schedules import InvalidSchedule, fires_between
from server.store.db import Db

RUN_EXPORT = "run_export"


@dataclass(frozen=True, slots=True, kw_only=True)
class Requested:
    run: ExportRunRecord
    created: bool  # False when a pending run absorbed the request


async def request_export_run(
    arq: ArqRedis, db: Db, export_id: str, trigger: str, now: datetime, *, join_running: bool = True
) -> Requested | None:
    """Record a run (or find the pending one) and make sure its job is queued. None when the
    export does not exist. Raises Redis or Neo4j errors."""
    found = await runs.request_run(
        db, export_id, uuid.uuid4().hex, trigger, join_running=join_running, now=now
    )
    if found is None:
        return None
    run, created = found
    if run.status is ExportRunStatus.QUEUED:
        await enqueue_once(arq, run.job_id, RUN_EXPORT, run.id)
    return Requested(run=run, created=created)


def is_due(export: ExportRecord, now: datetime) -> bool:
    """Whether a SCHEDULE export's cron has a time in (last handled, now]."""
    trigger = export.trigger
    if trigger.kind is not TriggerKind.SCHEDULE or not trigger.cron:
        return False
    after = export.last_scheduled_at or export.created_at
    try:
        return fires_between(trigger.cron, trigger.timezone, after, now)
    except InvalidSchedule:
        return False  # the API validates schedules on save


async def export_tick(arq: ArqRedis, db: Db, now: datetime) -> list[str]:
    """The worker's minute tick: queue the active scheduled exports that came due, and queue
    again any queued run whose job Redis lost. Returns the ids of the exports queued."""
    due = [e.id for e in await store.triggered_exports(db, TriggerKind.SCHEDULE) if is_due(e, now)]
    for export_id in due:
        await request_export_run(arq, db, export_id, "SCHEDULE", now)
    if due:
        await store.mark_scheduled(db, due, now)
    for run in await runs.queued_runs(db):
        await enqueue_once(arq, run.job_id, RUN_EXPORT, run.id)
    return due


async def after_refresh(arq: ArqRedis, db: Db, segment_ids: list[str], now: datetime) -> list[str]:
    """Queue a run of every active AFTER_REFRESH export carrying one of the segments that just
    refreshed (a run already RUNNING read the old members, so it does not absorb this one).
    Returns the ids of the exports queued."""
    found = await store.triggered_exports(db, TriggerKind.AFTER_REFRESH, segment_ids)
    for export in found:
        await request_export_run(arq, db, export.id, "AFTER_REFRESH", now, join_running=False)
    return [e.id for e in found]
