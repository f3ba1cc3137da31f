"""The store's enums exposed as GraphQL enums. Imported before any type or input that uses
them: strawberry gives an undecorated enum its own definition, which would clash."""

from __future__ import annotations

from enum import StrEnum

import strawberry

from server.store.pages import SegmentOrderField, SortDirection
from server.store.records import (
    ConsumerKind,
    RefreshStatus,
    ScheduleKind,
    SegmentState,
    SegmentType,
)

strawberry.enum(
    SegmentType,
    description="STATIC, DYNAMIC, COMPOUND (from other segments) or EXPANSION (similar customers).",
)
strawberry.enum(SegmentState)
strawberry.enum(RefreshStatus, description="Status of the last refresh.")
strawberry.enum(ScheduleKind)
strawberry.enum(ConsumerKind)
strawberry.enum(SegmentOrderField)
strawberry.enum(SortDirection)


@strawberry.enum
class DependentKind(StrEnum):
    SEGMENT = "SEGMENT"
    CAMPAIGN = "CAMPAIGN"
    JOURNEY = "JOURNEY"
    EXPORT = "EXPORT"
    SCORE_MODEL = "SCORE_MODEL"
    LEAD_MODEL = "LEAD_MODEL"  # a predictive model whose audience reads the segment
    OTHER = "OTHER"


__all__ = [
    "ConsumerKind",
    "DependentKind",
    "RefreshStatus",
    "ScheduleKind",
    "SegmentOrderField",
    "SegmentState",
    "SegmentType",
    "SortDirection",
]
