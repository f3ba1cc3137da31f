"""Which worker runs which refresh job, so that a job whose worker died runs again soon.

arq marks a running job with an in-progress key that lives as long as its longest job timeout
(hours here: a refresh pass, an export) plus 10 s, and no worker starts that job again before
the key expires. A SIGKILLed worker therefore left its refresh request waiting for hours (found
by tests/reliability/test_refresh_atomicity.py). Each worker now keeps a short-lived key of its
own alive, holding the ids of the refresh jobs it runs, and a refresh task notes its worker
beside its job id as it starts; `reconcile` clears the in-progress mark of a job whose worker's
key has lapsed or no longer lists it (the job ended while Redis could not hear of it), and arq
starts the job (still in its queue until it finishes) on a live worker. A worker that was only
cut off from Redis for longer than the TTL may then run beside the new one: the claim's fence
keeps that harmless (the older run stops at its next batch).

A job can also be marked running with no owner noted: arq marks it before the task starts, and
a job that ends removes its owner before arq clears the mark. If Redis drops the connection in
between (arq's own bookkeeping fails; found by the connection-reset fault of
tests/reliability/test_outages.py), the mark stayed for hours and `reconcile` left it alone.
`reconcile` now notes when it first saw such a job and releases it once that is a worker TTL
ago, longer than any live worker takes to note a job it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("segments.worker")

_ALIVE = "segments:worker-alive:"
_OWNER = "segments:job-owner:"
_UNOWNED = "segments:job-unowned-since:"
_UNOWNED_KEEP_S = 600  # a note outlives a few minutes' reconciles, not the next run's start


def new_worker_id() -> str:
    return uuid.uuid4().hex


async def announce(redis: Redis, worker_id: str, ttl_s: float, running: set[str]) -> None:
    """Say this worker is alive and runs the jobs `running`, for `ttl_s`."""
    value = "\n".join(sorted(running)).encode()
    await redis.set(_ALIVE + worker_id, value, px=int(ttl_s * 1000))


async def keep_alive(redis: Redis, worker_id: str, ttl_s: float, running: set[str]) -> None:
    """Announce every third of the TTL, until cancelled. Redis being away only pauses it
    (the key lapses meanwhile, as for a dead worker)."""
    while True:
        try:
            await announce(redis, worker_id, ttl_s, running)
        except (RedisError, OSError) as exc:
            log.warning("could not renew the worker's liveness key: %s", exc)
        await asyncio.sleep(ttl_s / 3)


async def forget_worker(redis: Redis, worker_id: str) -> None:
    with contextlib.suppress(RedisError, OSError):
        await redis.delete(_ALIVE + worker_id)


async def note_owner(redis: Redis, job_id: str, worker_id: str, ttl_s: int) -> None:
    """Record that `worker_id` runs `job_id` (kept `ttl_s`, the job's timeout)."""
    await redis.set(_OWNER + job_id, worker_id.encode(), ex=max(ttl_s, 1))
    await redis.delete(_UNOWNED + job_id)


async def forget_owner(redis: Redis, job_id: str) -> None:
    """The job ended (or will be retried from the queue): nobody runs it now."""
    with contextlib.suppress(RedisError, OSError):
        await redis.delete(_OWNER + job_id)


async def release_if_orphaned(redis: Redis, job_id: str, unowned_grace_s: float) -> bool:
    """Clear the in-progress mark of `job_id` when the worker noted as running it is dead or
    runs it no more, or when no worker has been noted for `unowned_grace_s` since this was
    first asked, so arq starts the job again; True when it did."""
    owner = await redis.get(_OWNER + job_id)
    if owner is None:
        return await _release_if_long_unowned(redis, job_id, unowned_grace_s)
    alive = await redis.get(_ALIVE + owner.decode())
    if alive is not None and job_id in alive.decode().split("\n"):
        return False
    await redis.delete(in_progress_key_prefix + job_id, _OWNER + job_id)
    log.warning("refresh job %s lost its worker %s: released for another", job_id, owner)
    return True


async def _release_if_long_unowned(redis: Redis, job_id: str, grace_s: float) -> bool:
    seconds, micros = await redis.time()  # one clock for every worker
    now = seconds + micros / 1e6
    await redis.set(_UNOWNED + job_id, repr(now), nx=True, ex=_UNOWNED_KEEP_S)
    since = float(await redis.get(_UNOWNED + job_id) or now)
    if now - since < grace_s:
        return False
    await redis.delete(in_progress_key_prefix + job_id, _UNOWNED + job_id)
    log.warning("refresh job %s was marked running by no live worker for %.0f s: released "
                "for another", job_id, now - since)  # fmt: skip
    return True
