"""The Subscription root (graphql-transport-ws on /graphql)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from server.api.common import subscription
from server.api.context import Info
from server.api.live import LiveSubscriptions
from server.api.segments.progress import RefreshProgress, progress_events, segment_ids


@strawberry.type
class Subscription(LiveSubscriptions):
    @subscription(
        "Refresh progress and status changes: first the latest state of each asked segment, "
        "then every change. Without `segments`, every segment's."
    )
    async def refresh_progress(
        self, info: Info, segments: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[RefreshProgress, None]:
        async for event in progress_events(info.context.deps.redis, segment_ids(segments)):
            yield event
