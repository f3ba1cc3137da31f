"""The change queue on the real Redis: an applier that lost its lock never trims changes."""

from __future__ import annotations

import asyncio

from arq.connections import RedisSettings, create_pool

from server.live.queue import CHANGES, LOCK, PENDING, drain, queue_changes
from server.live.records import Change
from server.settings import Settings


def test_an_applier_whose_lock_was_taken_over_leaves_the_changes(settings: Settings) -> None:
    async def scenario() -> tuple[int, int, int, list[list[Change]]]:
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        await redis.delete(CHANGES, LOCK, PENDING)
        seen: list[list[Change]] = []
        try:
            await redis.rpush(CHANGES, '{"entity": "Customer", "key": "c1"}')  # type: ignore[misc]

            async def slow_apply(changes: list[Change]) -> None:
                seen.append(changes)
                await redis.set(LOCK, "another applier")  # ours expired; someone took over

            lost = await drain(redis, slow_apply)
            left = await redis.llen(CHANGES)  # type: ignore[misc]
            await redis.delete(LOCK)
            await queue_changes(redis, [Change("Customer", "c2")])
            await drain(redis, lambda changes: _record(seen, changes))
            remaining = await redis.llen(CHANGES)  # type: ignore[misc]
            return lost, left, remaining, seen
        finally:
            await redis.delete(CHANGES, LOCK, PENDING)
            await redis.aclose()

    lost, left, remaining, seen = asyncio.run(scenario())
    assert (lost, left) == (0, 1)  # nothing counted as done: the change stayed queued
    assert remaining == 0  # the next applier took both
    assert [[c.key for c in batch] for batch in seen] == [["c1"], ["c1", "c2"]]


async def _record(seen: list[list[Change]], changes: list[Change]) -> None:
    seen.append(changes)
