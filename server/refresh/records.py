"""Immutable values of the refresh engine: what a refresh evaluates, what a run records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """The statuses users know from the reference texts (same values as the API's enum)."""

    NOT_STARTED = "NOT_STARTED"
    QUEUED = "QUEUED"
    REFRESHING = "REFRESHING"
    SUCCESSFUL = "SUCCESSFUL"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"


class Phase(StrEnum):
    """Progress phases, published in this order. An expansion (similar customers) evaluates
    in four more, each with its percent; other segments skip them."""

    QUEUED = "QUEUED"
    CLAIMING = "CLAIMING"
    EVALUATING = "EVALUATING"
    READING_FEATURES = "READING_FEATURES"
    HOLDOUT = "HOLDOUT"
    TRAINING = "TRAINING"
    SCORING = "SCORING"
    DIFFING = "DIFFING"
    WRITING = "WRITING"
    SWITCHING = "SWITCHING"
    DONE = "DONE"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberQuery:
    """A compiled definition: a read query returning one row per member with a `key` column,
    and how to find a member's profile node (schema-validated label and key property)."""

    cypher: str
    params: dict[str, Any] = field(default_factory=dict)
    profile_label: str
    profile_key: str
    # The same definition restricted to the profiles in `$keys` (incremental refresh).
    keys_cypher: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitSpec:
    """A split group's membership rule: the members of `parent_id` whose bucket under `seed`
    falls in `ranges` (see server.splits.buckets)."""

    parent_id: str
    seed: str
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpansionSpec:
    """An expansion segment's settings: the profiles most similar to `source_id`'s members
    among the population (`population_id`'s members, or every profile), minus the source."""

    source_id: str
    features: tuple[str, ...]  # feature or attribute names; empty: every planned feature
    population_id: str | None
    output_percent: float  # of the population
    include_source: bool

    def to_json(self) -> str:
        return json.dumps({
            "source": self.source_id, "features": list(self.features),
            "population": self.population_id, "outputPercent": self.output_percent,
            "includeSource": self.include_source,
        })  # fmt: skip

    @staticmethod
    def from_json(text: str) -> ExpansionSpec:
        p = json.loads(text)
        return ExpansionSpec(
            source_id=p["source"], features=tuple(p["features"]), population_id=p["population"],
            output_percent=float(p["outputPercent"]), include_source=bool(p["includeSource"]),
        )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class SegmentInfo:
    """What the refresh engine reads of a `_Segment` (the API owns the other properties)."""

    id: str
    name: str
    type: str
    state: str
    valid: bool
    status: str
    audience: str
    timezone: str
    schedule_kind: str
    schedule_cron: str | None
    definition_version: int
    active_version: int
    created_at: datetime
    last_scheduled_at: datetime | None
    references: tuple[str, ...]  # ids of the segments it reads (`_DEPENDS_ON`)
    member_count: int | None = None  # of the active version, as its run recorded it
    split: SplitSpec | None = None  # set on a group of a split (its members come from that)
    expansion: ExpansionSpec | None = None  # set on an expansion (similar customers) segment


@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    segment_id: str
    version: int
    text: str
    json: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A run's exclusive right to write version `version` of a segment, on top of `base`."""

    segment_id: str
    run_id: str
    version: int
    base: int
    # A version was started past the active one and never switched to: an aborted run may
    # have left memberships behind (since or until beyond `base`) to clean first.
    dirty: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    entered: tuple[Any, ...]
    exited: tuple[Any, ...]
    member_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One refresh of one segment (`_SegmentRun`)."""

    id: str
    segment_id: str
    status: RunStatus
    version: int | None  # membership version it wrote (None unless it got that far)
    base_version: int | None
    definition_version: int
    trigger: str  # MANUAL, SCHEDULE, RECONCILE, PASS
    now: datetime  # the evaluation time used
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    member_count: int | None
    entered_count: int | None
    exited_count: int | None
    error: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendPoint:
    at: datetime
    member_count: int
    version: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Growth:
    """Member count now against the last successful run at or before `since`."""

    current: int
    previous: int
    since: datetime

    @property
    def delta(self) -> int:
        return self.current - self.previous


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshOutcome:
    """The small JSON-able result a task returns."""

    segment_id: str
    status: RunStatus
    run_id: str | None = None
    version: int | None = None
    member_count: int | None = None
    entered: int | None = None
    exited: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "segmentId": self.segment_id,
            "status": self.status.value,
            "runId": self.run_id,
            "version": self.version,
            "memberCount": self.member_count,
            "entered": self.entered,
            "exited": self.exited,
            "reason": self.reason,
        }
