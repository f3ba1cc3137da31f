"""The hand-off between an accepted batch and the workers: changes wait in a Redis list and
one applier at a time drains it, so a burst of small batches costs one pass per segment, not
one per batch.

At least once: an applier reads changes without removing them, applies them, then trims
what it applied; a worker killed in between leaves them for the next applier (applying a
change twice is harmless). The applier's lock is short and renewed while it works, so a killed
applier's lock lapses within seconds; an applier that finds the lock taken comes back when it
lapses. The data itself is already committed in Neo4j when a batch is accepted, and the
scheduled full refresh reconciles anything Redis loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from arq.connections import ArqRedis

from server.live.records import Change

T = TypeVar("T")
CHANGES = "live:changes"
PENDING = "live:pending"  # set while an applier job is queued and has not started draining
LOCK = "live:applier"
APPLY_TASK = "apply_live_changes"
BATCH = 5_000
LOCK_MS = 10_000  # renewed every third of it while applying


async def queue_changes(redis: ArqRedis, changes: list[Change]) -> None:
    if not changes:
        return
    await sure(redis.rpush(CHANGES, *(json.dumps(c.to_json(), default=str) for c in changes)))
    await wake_applier(redis)


async def wake_applier(redis: ArqRedis) -> None:
    """Queue an applier unless one is queued already (the flag) or the list is empty."""
    if await redis.set(PENDING, "1", nx=True, px=LOCK_MS):
        await redis.enqueue_job(APPLY_TASK, _job_id=f"live:apply:{uuid.uuid4().hex}")


async def wake_if_waiting(redis: ArqRedis) -> None:
    """For the scheduler's tick: changes waiting with no applier (one lost with a worker)."""
    if await sure(redis.llen(CHANGES)):
        await wake_applier(redis)


async def drain(
    redis: ArqRedis, apply: Callable[[list[Change]], Awaitable[Any]], lock_ms: int = LOCK_MS
) -> int:
    """Apply queued changes until none are left; returns how many. Only one drainer runs at a
    time (a lock): a second one returns at once (the first sees its changes on its next loop)
    and queues an applier for when the lock lapses, in case its holder died."""
    token = uuid.uuid4().hex
    if not await redis.set(LOCK, token, nx=True, px=lock_ms):
        await _retry_after_lock(redis)
        return 0
    done = 0
    keeper = asyncio.ensure_future(_keep_lock(redis, token, lock_ms))
    try:
        while True:
            await redis.delete(PENDING)  # from here on, new changes queue a new applier
            raw: list[bytes] = await sure(redis.lrange(CHANGES, 0, BATCH - 1))
            if not raw:
                break
            await apply([_change(r) for r in raw])
            if not await _trim_if_held(redis, token, len(raw), lock_ms):
                break  # the lock expired during a long batch: the new holder reapplies it
            done += len(raw)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        if await redis.get(LOCK) == token.encode():
            await redis.delete(LOCK)
    if await sure(redis.llen(CHANGES)):  # pushed between our last read and the lock's release
        await wake_applier(redis)
    return done


# Trims only while the lock is still ours, atomically: an applier whose lock expired during a
# long batch must not trim changes that the next holder has read but not yet applied.
_TRIM_IF_HELD = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('ltrim', KEYS[2], tonumber(ARGV[2]), -1)
  redis.call('pexpire', KEYS[1], tonumber(ARGV[3]))
  return 1
end
return 0
"""


async def _trim_if_held(redis: ArqRedis, token: str, count: int, lock_ms: int) -> bool:
    args = (LOCK, CHANGES, token, str(count), str(lock_ms))
    held = await sure(redis.eval(_TRIM_IF_HELD, 2, *args))
    return bool(held)


_RENEW_IF_HELD = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], tonumber(ARGV[2]))
end
return 0
"""


async def _keep_lock(redis: ArqRedis, token: str, lock_ms: int) -> None:
    """Renew the lock while the applier works (a long batch must not lose it); stops when
    the lock is no longer ours."""
    while True:
        await asyncio.sleep(lock_ms / 3000)
        if not await sure(redis.eval(_RENEW_IF_HELD, 1, LOCK, token, str(lock_ms))):
            return


async def _retry_after_lock(redis: ArqRedis) -> None:
    """One applier per lock holder, queued for when its lock lapses: a live holder renews it
    and drains the changes itself; a dead one's lock lapses and this applier takes over."""
    holder = await redis.get(LOCK)
    left = await redis.pttl(LOCK)
    if holder is None or left < 0:
        await wake_applier(redis)  # released meanwhile
        return
    job_id = f"live:apply:after:{holder.decode()}"
    await redis.enqueue_job(APPLY_TASK, _job_id=job_id, _defer_by=(left + 50) / 1000)


async def sure(value: Awaitable[T] | T) -> T:
    """redis-py types list commands as sync-or-async; on an async client they are awaitable."""
    return await value if isinstance(value, Awaitable) else value


def _change(raw: bytes | str) -> Change:
    found = json.loads(raw)
    return Change(
        entity=found["entity"], key=found["key"],
        attributes=tuple(found.get("attributes", ())), structural=found.get("structural", True),
    )  # fmt: skip
