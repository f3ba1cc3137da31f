"""The exports domain's enums as GraphQL enums (registered before any type that uses them)."""

from __future__ import annotations

import strawberry

from server.exports.records import DestinationKind, ExportRunStatus, ExportState, TriggerKind

strawberry.enum(
    DestinationKind,
    description="A folder under the export root (CSV or Parquet files), or an HTTP endpoint "
    "receiving JSON lines.",
)
strawberry.enum(
    TriggerKind, description="When it runs besides on request: never, on a cron schedule, or "
    "after any of its segments refreshes successfully."
)  # fmt: skip
strawberry.enum(ExportState, description="Inactive exports run only when asked.")
strawberry.enum(ExportRunStatus)

__all__ = ["DestinationKind", "ExportRunStatus", "ExportState", "TriggerKind"]
