"""The Subscription root (graphql-transport-ws on /graphql)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from server.access import Permission
from server.api.common import decode_gid, subscription
from server.api.context import Info
from server.api.leads.prediction_types import LeadModelProgressEvent, lead_model_events
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

    @subscription(
        "A lead model's training and scoring progress: first the latest state of each, then "
        "every change.",
        requires=Permission.READ_SCORES,
    )
    async def lead_model_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[LeadModelProgressEvent, None]:
        model_id = decode_gid(str(id), "LeadModel") or ""  # an unknown id never matches
        async for event in lead_model_events(info.context.deps.redis, model_id):
            yield event
