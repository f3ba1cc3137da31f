"""arq worker settings: the jobs that run beside the API, on Redis.

Tasks stay thin: parse arguments, call a domain function, return a small JSON-able result.
Refresh tasks are idempotent (a re-run after a crash claims the segment again and rewrites an
invisible version), so arq's at-least-once delivery is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import neo4j
from arq import Retry, cron, func
from arq.connections import RedisSettings

from graph_schema import default_schema, load_schema
from server import task_dump
from server.exports import jobs as export_jobs
from server.exports.runner import ExportEnv
from server.exports.runner import run_export as run_one_export
from server.leads import jobs as score_jobs
from server.leads.run import ScoreEnv
from server.leads.run import score_model as score_one_model
from server.leads.schema_attributes import with_score_attributes
from server.live import clock
from server.live.incremental import apply_changes, load_live, redis_announcer
from server.live.queue import drain, wake_if_waiting
from server.live.records import Change
from server.live.warm_plans import PlanWarmer
from server.live.webhooks import MAX_TRIES as WEBHOOK_TRIES
from server.live.webhooks import deliver, queue_deliveries
from server.outgoing import OutgoingPolicy
from server.predict import jobs as predict_jobs
from server.predict.score import NotScorable
from server.predict.score import score as score_with_prediction
from server.predict.train import NotTrainable, PredictEnv
from server.predict.train import train as train_prediction
from server.refresh import liveness
from server.refresh.claims import SegmentBusy
from server.refresh.config import RefreshSettings
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.jobs import reconcile, schedule_tick
from server.refresh.passes import refresh_pass
from server.refresh.progress import redis_publisher
from server.refresh.records import RefreshOutcome, RunStatus
from server.refresh.refresh import RefreshEnv, is_transient
from server.refresh.refresh import refresh_segment as refresh_one
from server.refresh.schedules import SystemSchedule
from server.refresh.schema import ensure_refresh_schema
from server.refresh.sources import sources_for
from server.settings import Settings, get_settings
from server.store.db import Db
from server.store.lifecycle import purge_all_deleted

T = TypeVar("T")
log = logging.getLogger("segments.worker")


async def startup(ctx: dict[str, Any]) -> None:
    """Open the drivers, make sure the refresh indexes exist, and reconcile refresh requests.

    `ctx` may arrive with `compiler`, `refresh_settings` or `export_env` already set (tests,
    benchmarks)."""
    settings = get_settings()
    refresh = ctx.setdefault("refresh_settings", RefreshSettings())
    ctx["settings"] = settings
    auth = (settings.neo4j_user, settings.neo4j_password)
    # Map projections of optional properties draw "property does not exist" notices: noise.
    ctx["driver"] = neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    )
    ctx["async_driver"] = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    )
    graph = Graph(ctx["async_driver"], settings.neo4j_database)
    schema = load_schema(settings.schema_file) if settings.schema_file else default_schema()
    schema = with_score_attributes(schema)  # segments may read scores
    ctx["schema"] = schema
    ctx["refresh_env"] = RefreshEnv(
        graph=graph,
        compiler=ctx.get("compiler") or grammar_compiler(schema),
        publish=redis_publisher(ctx["redis"]),
        lease_ms=refresh.lease_ms,
        busy_wait_s=refresh.busy_wait_s,
        batch_size=refresh.batch_size,
        write_in_flight=refresh.write_in_flight,
        keep_versions=refresh.keep_versions,
        gc_grace_s=refresh.gc_grace_s,
        keep_runs=refresh.keep_runs,
        source=sources_for(schema),
    )
    db = Db(ctx["async_driver"], settings.neo4j_database)
    ctx.setdefault("export_env", ExportEnv(db=db, schema=schema, root=settings.exports_dir))
    publish = score_jobs.redis_publisher(ctx["redis"])
    ctx.setdefault("score_env", ScoreEnv(db=db, schema=schema, publish=publish))
    predict_publish = predict_jobs.redis_publisher(ctx["redis"])
    ctx.setdefault("predict_env", PredictEnv(db=db, schema=schema, publish=predict_publish))
    task_dump.install(asyncio.get_running_loop())
    ctx["worker_id"] = worker_id = liveness.new_worker_id()
    running: set[str] = set()
    ctx["running"] = running
    ctx["keep_alive"] = asyncio.create_task(
        liveness.keep_alive(ctx["redis"], worker_id, refresh.worker_ttl_s, running)
    )
    await ensure_refresh_schema(graph)
    await reconcile(ctx["redis"], graph, refresh.worker_ttl_s)
    # The first live change of each kind would otherwise pay Neo4j's planning of its queries.
    if settings.live_warm_plans:
        ctx["plan_warmer"] = warmer = PlanWarmer(ctx["refresh_env"], schema)
        warmer.start()
    source = settings.schema_file or "the default schema"
    log.info("worker %s ready: Neo4j %s, schema %s (%d profile entities)", worker_id,
             settings.neo4j_uri, source, len(schema.profiles))  # fmt: skip


async def shutdown(ctx: dict[str, Any]) -> None:
    if (warmer := ctx.pop("plan_warmer", None)) is not None:
        await warmer.stop()
    if (alive := ctx.pop("keep_alive", None)) is not None:
        alive.cancel()
        await liveness.forget_worker(ctx["redis"], ctx["worker_id"])
    ctx["driver"].close()
    await ctx["async_driver"].close()


async def import_csv(
    ctx: dict[str, Any], directory: str, schema_file: str | None = None
) -> dict[str, Any]:
    """Import a folder of CSV files (the same as `segments import`), off the API's request path."""
    from graph_schema.importer import import_directory

    schema = load_schema(schema_file) if schema_file else default_schema()
    # The importer uses the blocking driver; a thread keeps the worker's event loop responsive.
    report = await asyncio.to_thread(import_directory, ctx["driver"], schema, Path(directory))
    return {"rows": report.rows, "bad_rows": report.bad_row_count, "seconds": report.seconds}


async def _retrying(ctx: dict[str, Any], work: Callable[[], Awaitable[T]]) -> T:
    """Turn connection trouble and a busy segment into an arq retry with backoff."""
    try:
        return await work()
    except SegmentBusy as exc:  # a long run holds the segment: try again later
        raise Retry(defer=30) from exc
    except Exception as exc:
        if is_transient(exc):
            raise Retry(defer=min(2 ** ctx.get("job_try", 1), 60)) from exc
        raise


async def refresh_segment(
    ctx: dict[str, Any], segment_id: str, trigger: str = "MANUAL"
) -> dict[str, Any]:
    """Refresh one segment (job id `refresh:{segment id}:{definition version}`)."""
    env: RefreshEnv = ctx["refresh_env"]
    async with _owned(ctx, ctx["refresh_settings"].job_timeout_s):
        outcome = await _retrying(ctx, lambda: refresh_one(env, segment_id, trigger))
    await _exports_after(ctx, [outcome])
    return outcome.to_json()


async def refresh_segments(
    ctx: dict[str, Any], segment_ids: list[str], trigger: str = "MANUAL"
) -> list[dict[str, Any]]:
    """Refresh many segments in one pass, inputs before the segments reading them."""
    env: RefreshEnv = ctx["refresh_env"]
    async with _owned(ctx, ctx["refresh_settings"].pass_timeout_s):
        outcomes = await _retrying(ctx, lambda: refresh_pass(env, segment_ids, trigger))
    await _exports_after(ctx, outcomes)
    return [o.to_json() for o in outcomes]


@contextlib.asynccontextmanager
async def _owned(ctx: dict[str, Any], timeout_s: int) -> AsyncIterator[None]:
    """Note which worker runs this job while it runs: `reconcile` hands it to another when
    this one dies."""
    job_id = ctx.get("job_id")
    if job_id is None or "worker_id" not in ctx:
        yield
        return
    redis, worker_id, running = ctx["redis"], ctx["worker_id"], ctx["running"]
    running.add(job_id)
    await liveness.announce(redis, worker_id, ctx["refresh_settings"].worker_ttl_s, running)
    await liveness.note_owner(redis, job_id, worker_id, timeout_s)
    try:
        yield
    finally:
        running.discard(job_id)
        await liveness.forget_owner(redis, job_id)


async def _exports_after(ctx: dict[str, Any], outcomes: list[RefreshOutcome]) -> None:
    """Queue the AFTER_REFRESH exports of the segments that refreshed successfully. The
    refresh is done either way: a failure here is logged, not retried as a refresh."""
    done = [o.segment_id for o in outcomes if o.status is RunStatus.SUCCESSFUL]
    if not done:
        return
    env: ExportEnv = ctx["export_env"]
    try:
        await export_jobs.after_refresh(ctx["redis"], env.db, done, datetime.now(UTC))
    except Exception:
        log.exception("could not queue the exports of refreshed segments %s", done)


async def run_export(ctx: dict[str, Any], run_id: str) -> dict[str, Any] | None:
    """Run one queued export run (job id `export:{export id}:{run number}`)."""
    run = await run_one_export(ctx["export_env"], run_id)
    return None if run is None else {"runId": run.id, "status": run.status.value}


def _announcer(ctx: dict[str, Any]) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """Membership events to the subscription channel and to the segment's webhooks."""
    publish = redis_announcer(ctx["redis"])

    async def announce(event: dict[str, Any]) -> None:
        await publish(event)
        await queue_deliveries(ctx["redis"], ctx["export_env"].db, event)

    return announce


async def apply_live_changes(ctx: dict[str, Any]) -> int:
    """Apply the changes ingestion queued to the live segments (one applier at a time), then
    have the clock reschedule the time windows they may bring nearer."""
    env: RefreshEnv = ctx["refresh_env"]
    announce = _announcer(ctx)

    async def apply(changes: list[Change]) -> None:
        live = await load_live(env)
        if (warmer := ctx.get("plan_warmer")) is not None:
            warmer.note(live)  # a definition changed or a segment went live: warm its plans
        together = not ctx["settings"].live_one_by_one
        await apply_changes(env, ctx["schema"], changes, announce, live, together)
        await clock.note_changes(ctx["redis"], live, ctx["schema"], changes)

    return await drain(ctx["redis"], apply, ctx["settings"].live_lock_ms)


async def live_clock(ctx: dict[str, Any]) -> list[str]:
    """Move time windows: re-evaluate the profiles whose records a window crossed since the
    last check, then queue the next run at the next instant one will cross."""
    env: RefreshEnv = ctx["refresh_env"]
    now = datetime.now(UTC)
    run = await clock.run_clock(env, ctx["schema"], ctx["redis"], now, _announcer(ctx))
    # A run at the instant when it is near; a far one is brought near by the minute's run
    # (no job deferred for months, and burst workers in tests do not wait for one).
    if run.next_due is not None and run.next_due - now <= clock.WAKE_AHEAD:
        await clock.wake_at(ctx["redis"], max(run.next_due, now))
    return list(run.checked)


async def deliver_webhook(ctx: dict[str, Any], webhook_id: str, event: dict[str, Any]) -> int:
    """POST one membership event to one webhook (job id = its idempotency key)."""
    outgoing = OutgoingPolicy.from_settings(ctx["settings"])
    return await deliver(ctx["export_env"].db, webhook_id, event, ctx.get("job_try", 1), outgoing)


async def scheduled_refresh(ctx: dict[str, Any]) -> str | None:
    """Every minute: queue the segments whose schedule came due, skip the inactive ones, and
    queue again any requested refresh whose job was lost (a failed retry, a Redis restart);
    the same for scheduled exports and queued export runs."""
    refresh: RefreshSettings = ctx["refresh_settings"]
    env: RefreshEnv = ctx["refresh_env"]
    system = SystemSchedule(cron=refresh.system_cron, timezone=refresh.system_timezone)
    now = datetime.now(UTC)
    submitted = await schedule_tick(ctx["redis"], env.graph, system, now)
    await reconcile(ctx["redis"], env.graph, refresh.worker_ttl_s)
    await export_jobs.export_tick(ctx["redis"], ctx["export_env"].db, now)
    await wake_if_waiting(ctx["redis"])  # changes whose applier was lost with a worker
    await clock.wake_clock(ctx["redis"])  # segments new to the clock; a lost deferred run
    await score_jobs.score_tick(ctx["redis"], ctx["score_env"].db, now)
    await predict_jobs.score_tick(ctx["redis"], ctx["predict_env"].db, now)
    await purge_all_deleted(ctx["export_env"].db)  # memberships of deletes a crash cut short
    return submitted.job_id if submitted else None


async def score_model(ctx: dict[str, Any], model_id: str) -> dict[str, Any] | None:
    """Score one published model (job id `score:{model id}:{version}`); idempotent."""
    run = await _retrying(ctx, lambda: score_one_model(ctx["score_env"], model_id))
    return None if run is None else {"runId": run.id, "scored": run.scored, "changed": run.changed}


async def train_lead_model(ctx: dict[str, Any], model_id: str, actor: str) -> dict[str, Any]:
    """Train the predictive model's next version (job id `train:{model id}`). Data that cannot
    train (one class only) is reported, not retried: a retry would fail the same way."""
    try:
        env = ctx["predict_env"]
        version = await _retrying(ctx, lambda: train_prediction(env, model_id, actor))
    except NotTrainable as exc:
        log.warning("lead model %s not trained: %s", model_id, exc)
        return {"error": str(exc)}
    return {} if version is None else {"version": version.version}


async def score_lead_model(ctx: dict[str, Any], model_id: str) -> dict[str, Any] | None:
    """Score with the published predictive version (job id `predict:{model id}:{version}`)."""
    try:
        run = await _retrying(ctx, lambda: score_with_prediction(ctx["predict_env"], model_id))
    except NotScorable as exc:
        log.warning("lead model %s not scored: %s", model_id, exc)
        return {"error": str(exc)}
    return None if run is None else {"runId": run.id, "scored": run.scored, "changed": run.changed}


def lead_model_functions() -> list[Any]:
    return [func(train_lead_model, timeout=3600, max_tries=3, keep_result=3600),
            func(score_lead_model, timeout=3600, max_tries=3, keep_result=3600)]  # fmt: skip


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


def refresh_functions(refresh: RefreshSettings) -> list[Any]:
    tries, keep = refresh.max_tries, refresh.keep_result_s
    return [
        func(refresh_segment, timeout=refresh.job_timeout_s, max_tries=tries, keep_result=keep),
        func(refresh_segments, timeout=refresh.pass_timeout_s, max_tries=tries, keep_result=keep),
    ]


def live_functions() -> list[Any]:
    # Retried after a lost worker: the changes stay queued until applied.
    return [
        func(apply_live_changes, timeout=3600, max_tries=5, keep_result=0),
        func(live_clock, timeout=600, max_tries=3, keep_result=0),
        func(deliver_webhook, timeout=60, max_tries=WEBHOOK_TRIES, keep_result=3600),
    ]


def export_functions() -> list[Any]:
    # Failures are recorded on the run, not raised: a retry only follows a lost worker.
    return [func(run_export, timeout=6 * 3600, max_tries=3, keep_result=3600)]


_REFRESH = RefreshSettings()


class WorkerSettings:
    functions: ClassVar[list[Any]] = [import_csv, *refresh_functions(_REFRESH),
                                      *export_functions(), *live_functions(),
                                      func(score_model, timeout=3600, max_tries=3,
                                           keep_result=3600),
                                      *lead_model_functions()]  # fmt: skip
    cron_jobs: ClassVar[list[Any]] = [
        cron(scheduled_refresh, minute=None, second=0, unique=True, run_at_startup=True,
             timeout=300, keep_result=0),
    ]  # fmt: skip
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(get_settings())
    job_timeout = 3600
    poll_delay = 0.05  # live changes should not wait half a second for a worker to look
    max_tries = 3
