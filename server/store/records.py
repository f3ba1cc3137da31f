"""Immutable values the store returns; the API layer maps them to GraphQL types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class SegmentType(StrEnum):
    STATIC = "STATIC"
    DYNAMIC = "DYNAMIC"
    COMPOUND = "COMPOUND"  # built only from other segments
    EXPANSION = "EXPANSION"  # similar customers, filled by the scoring engine


class SegmentState(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class RefreshStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    QUEUED = "QUEUED"
    REFRESHING = "REFRESHING"
    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"


class ScheduleKind(StrEnum):
    SYSTEM = "SYSTEM"  # every system refresh
    CRON = "CRON"  # its own cron expression, in the segment's time zone
    MANUAL = "MANUAL"  # only when asked (static segments always)


class ConsumerKind(StrEnum):
    CAMPAIGN = "CAMPAIGN"
    JOURNEY = "JOURNEY"
    EXPORT = "EXPORT"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A compile problem of a saved definition; `code` comes from the segment language."""

    code: str
    message: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    end_column: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DefinitionRecord:
    segment_id: str
    version: int
    text: str
    json: str | None  # the JSON form as text (a builder's tree); None when it did not compile
    valid: bool
    diagnostics: tuple[Diagnostic, ...]
    references: tuple[str, ...]  # names of the segments it reads
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitGroupInfo:
    """What makes a segment a group of a split: its parent, the split's seed, its buckets."""

    parent_id: str
    seed: str
    ranges: tuple[tuple[int, int], ...]  # half-open bucket ranges of 10,000 (server.splits)
    order: int  # position among the split's groups


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentRecord:
    id: str
    name: str
    display_name: str
    description: str
    type: SegmentType
    audience: str
    state: SegmentState
    valid: bool  # the current definition compiles
    status: RefreshStatus
    status_detail: str | None
    last_refreshed_at: datetime | None
    tags: tuple[str, ...]
    timezone: str
    schedule_kind: ScheduleKind
    schedule_cron: str | None
    definition_version: int
    active_version: int  # membership version readers follow (engine_labels contract)
    lost_inputs: tuple[str, ...]  # names of force-deleted segments it read
    created_at: datetime
    updated_at: datetime
    created_by: str
    member_count: int | None = None  # of the active version, kept by every switch
    split_seed: str | None = None  # set on a segment that has been split
    split_group: SplitGroupInfo | None = None  # set on a group of a split

    @property
    def draft(self) -> bool:
        """Draft is how an invalid dynamic definition shows; an invalid static one is inactive."""
        return not self.valid and self.type is not SegmentType.STATIC


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRecord:
    id: str
    segment_id: str
    kind: ConsumerKind
    consumer: str
    description: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependent:
    """Something that would lose an input if the segment went away."""

    kind: str  # SEGMENT or a ConsumerKind
    id: str
    name: str
    node: str  # its global id's type: Segment, Export or SegmentUsage


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    key: str | int
    since: int
    properties: dict[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    cursors: tuple[str, ...]
    has_next: bool
    total: int
