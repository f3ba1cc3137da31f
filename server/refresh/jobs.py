"""Refresh requests on arq: deterministic job ids, submit, cancel, reconcile, schedule ticks.

A request is first recorded on the segment (QUEUED, `refreshPending`, `refreshJobId`) and only
then enqueued, so a request survives Redis losing its queue: `reconcile` finds pending
requests whose job Redis no longer knows and enqueues them again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.connections import ArqRedis
from arq.constants import result_key_prefix
from arq.jobs import Job, JobStatus

from server.refresh import liveness, segments
from server.refresh.graph import Graph
from server.refresh.progress import redis_publisher
from server.refresh.records import Phase, SegmentInfo
from server.refresh.schedules import SystemSchedule, plan_due

REFRESH_ONE = "refresh_segment"
REFRESH_MANY = "refresh_segments"
_PENDING = {JobStatus.queued, JobStatus.deferred, JobStatus.in_progress}


@dataclass(frozen=True, slots=True, kw_only=True)
class Submitted:
    job_id: str
    segment_ids: tuple[str, ...]
    enqueued: bool  # False when the same job was already waiting or running (a no-op)


def refresh_job_id(segment_id: str, definition_version: int) -> str:
    return f"refresh:{segment_id}:{definition_version}"


def pass_job_id(found: list[SegmentInfo], label: str = "") -> str:
    pairs = ",".join(sorted(f"{s.id}:{s.definition_version}" for s in found))
    return f"refresh-pass:{label}{hashlib.sha256(pairs.encode()).hexdigest()[:16]}"


async def submit_refresh(
    arq: ArqRedis, graph: Graph, segment_ids: list[str], trigger: str = "MANUAL", label: str = ""
) -> Submitted | None:
    """Request a refresh of one segment (its own job) or many (one pass in dependency order).
    The groups of a split come along with their parent, refreshed after it in the same pass.
    Unknown ids are ignored; None when none is known. Raises Redis or Neo4j errors."""
    wanted = set(segment_ids) | set(await segments.split_groups_of(graph, list(segment_ids)))
    found = await segments.load_segments(graph, sorted(wanted))
    if not found:
        return None
    ids = tuple(s.id for s in found)
    arg: str | list[str]
    if len(found) == 1:
        job_id = refresh_job_id(found[0].id, found[0].definition_version)
        function, arg = REFRESH_ONE, found[0].id
    else:
        job_id, function, arg = pass_job_id(found, label), REFRESH_MANY, list(ids)
    await segments.mark_queued(graph, dict.fromkeys(ids, job_id))
    enqueued = await enqueue_once(arq, job_id, function, arg, trigger)
    publish = redis_publisher(arq)
    for segment_id in ids:
        await publish({"segmentId": segment_id, "runId": None, "phase": Phase.QUEUED.value,
                       "percent": 0, "jobId": job_id})  # fmt: skip
    return Submitted(job_id=job_id, segment_ids=ids, enqueued=enqueued)


async def enqueue_once(arq: ArqRedis, job_id: str, function: str, *args: Any) -> bool:
    """Enqueue `function(*args)` as `job_id` unless that job is waiting or running already;
    False when it was (a no-op)."""
    status = await Job(job_id, arq).status()
    if status in _PENDING:
        return False
    if status is JobStatus.complete:  # a finished run's kept result must not block a new one
        await arq.delete(result_key_prefix + job_id)
    return await arq.enqueue_job(function, *args, _job_id=job_id) is not None


async def cancel_refresh(graph: Graph, segment_id: str) -> bool:
    """Cancel a queued or running refresh; the active version stays. A queued job finds the
    segment CANCELLED and does nothing; a running one stops at its next heartbeat (about a
    second). False when nothing was queued or running."""
    return await segments.request_cancel(graph, segment_id)


async def reconcile(arq: ArqRedis, graph: Graph, worker_ttl_s: float) -> list[str]:
    """Enqueue again every requested refresh that Redis has no waiting or running job for
    (Redis restarted empty, a job was lost with its worker), and hand a job whose worker died,
    or that no worker has owned for `worker_ttl_s`, to another (see liveness.py); returns the
    segment ids."""
    requeued: list[str] = []
    for segment_id, job_id in await segments.stranded_requests(graph):
        status = None if job_id is None else await Job(job_id, arq).status()
        if job_id is not None and status is JobStatus.in_progress:
            if await liveness.release_if_orphaned(arq, job_id, worker_ttl_s):
                requeued.append(segment_id)
            continue
        if status in _PENDING:
            continue
        if await submit_refresh(arq, graph, [segment_id], "RECONCILE"):
            requeued.append(segment_id)
    return requeued


async def schedule_tick(
    arq: ArqRedis, graph: Graph, system: SystemSchedule, now: datetime
) -> Submitted | None:
    """Fire the schedules due at `now`: due active segments refresh in one pass, due inactive
    or draft ones are SKIPPED with the reason. Returns the pass submitted, if any."""
    plan = plan_due(await segments.load_segments(graph), system, now)
    if plan.skip:
        await segments.mark_skipped(graph, plan.skip, "SCHEDULE")
    submitted = None
    if plan.refresh:
        label = f"schedule:{now.isoformat(timespec='minutes')}:"
        submitted = await submit_refresh(arq, graph, list(plan.refresh), "SCHEDULE", label)
    handled = [*plan.refresh, *plan.skip]
    if handled:
        await segments.mark_scheduled(graph, handled, now)
    return submitted
