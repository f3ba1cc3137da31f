"""Refresh progress in phases and percent, for the API's subscription.

The latest state of each segment's refresh is a Redis key (`refresh:progress:{segment id}`,
read on subscribe) and every change is published on the `refresh:progress` channel.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from server.refresh.records import Phase

CHANNEL = "refresh:progress"
KEY_TTL_S = 24 * 3600
Publish = Callable[[dict[str, Any]], Awaitable[None]]
# A member source's own phases while it evaluates (an expansion's reading, training, ...)
ReportPhase = Callable[[Phase, int], Awaitable[None]]


def progress_key(segment_id: str) -> str:
    return f"refresh:progress:{segment_id}"


def state_publisher(redis: Redis, channel: str, key_of: Callable[[dict[str, Any]], str]) -> Publish:
    """Publish to Redis: the latest state under `key_of(event)` (read on subscribe), each
    change on `channel`. Refresh runs and scoring runs report their progress this way."""

    async def publish(event: dict[str, Any]) -> None:
        payload = json.dumps(event, separators=(",", ":"))
        await redis.set(key_of(event), payload, ex=KEY_TTL_S)
        await redis.publish(channel, payload)

    return publish


def redis_publisher(redis: Redis) -> Publish:
    """A refresh's progress, per segment."""
    return state_publisher(redis, CHANNEL, lambda event: progress_key(event["segmentId"]))


async def read_progress(redis: Redis, segment_id: str) -> dict[str, Any] | None:
    """The latest published progress of a segment, None when none is kept."""
    raw = await redis.get(progress_key(segment_id))
    return None if raw is None else dict(json.loads(raw))


@dataclass(slots=True)
class ProgressReporter:
    """One run's progress; percent updates are sent only when the whole percent changes."""

    publish: Publish
    segment_id: str
    run_id: str
    _last: tuple[Phase, int] | None = field(default=None)

    async def phase(self, phase: Phase, percent: int = 0, **extra: Any) -> None:
        if self._last == (phase, percent) and not extra:
            return
        self._last = (phase, percent)
        event = {"segmentId": self.segment_id, "runId": self.run_id, "phase": phase.value,
                 "percent": percent, **extra}  # fmt: skip
        await self.publish(event)

    async def writing(self, done: int, total: int) -> None:
        await self.phase(Phase.WRITING, 100 * done // total if total else 100)

    async def report(self, phase: Phase, percent: int) -> None:
        """`phase` as a ReportPhase (no extra fields)."""
        await self.phase(phase, percent)


async def ignore_phase(phase: Phase, percent: int) -> None:
    return None
