"""`refreshProgress`: a subscription (graphql-transport-ws) to refresh phases and status changes.

Workers publish each change on one Redis channel (server/refresh/progress.py). A subscriber
listens first and then sends the latest kept state of each segment it asked for, so nothing
published in between is lost (a duplicate is possible and harmless: events are states, not
deltas). The API process keeps nothing: every subscriber has its own Redis connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import strawberry
from redis.asyncio import Redis

from server.api.common import decode_gid, segment_gid
from server.refresh.progress import CHANNEL, read_progress
from server.refresh.records import Phase
from server.store.records import RefreshStatus

strawberry.enum(Phase, name="RefreshPhase", description="Where a refresh is, in order.")

POLL_S = 1.0


@strawberry.type(description="A refresh's progress; `status` is the segment's refresh status.")
class RefreshProgress:
    segment_id: strawberry.ID
    run_id: str | None
    job_id: str | None
    phase: Phase
    percent: int
    status: RefreshStatus
    member_count: int | None
    entered: int | None
    exited: int | None
    reason: str | None

    @staticmethod
    def of(event: dict[str, Any]) -> RefreshProgress:
        phase = Phase(event["phase"])
        return RefreshProgress(
            segment_id=strawberry.ID(segment_gid(event["segmentId"])),
            run_id=event.get("runId"),
            job_id=event.get("jobId"),
            phase=phase,
            percent=int(event.get("percent", 0)),
            status=_status(phase, event.get("status")),
            member_count=event.get("members"),
            entered=event.get("entered"),
            exited=event.get("exited"),
            reason=event.get("reason"),
        )


def _status(phase: Phase, done: str | None) -> RefreshStatus:
    if phase is Phase.QUEUED:
        return RefreshStatus.QUEUED
    if phase is Phase.DONE and done is not None and done in RefreshStatus.__members__:
        return RefreshStatus(done)
    return RefreshStatus.REFRESHING


def segment_ids(ids: Iterable[str] | None) -> frozenset[str] | None:
    """Store ids of the asked global ids (unknown ones never match); None: every segment."""
    if ids is None:
        return None
    return frozenset(found for i in ids if (found := decode_gid(i, "Segment")) is not None)


async def progress_events(
    redis: Redis, wanted: frozenset[str] | None
) -> AsyncGenerator[RefreshProgress, None]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(CHANNEL)
    try:
        for segment_id in sorted(wanted or ()):
            latest = await read_progress(redis, segment_id)
            if latest is not None:
                yield RefreshProgress.of(latest)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
            if message is None or message.get("type") != "message":
                continue
            event = json.loads(message["data"])
            if wanted is None or event.get("segmentId") in wanted:
                yield RefreshProgress.of(event)
    finally:
        await pubsub.unsubscribe(CHANNEL)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
