"""Stored score models and runs as plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.leads.spec import ModelSpec, ModelState, VersionState


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionRecord:
    model_id: str
    version: int
    state: VersionState
    spec: ModelSpec
    entity: str  # the audience's entity
    references: tuple[str, ...]  # segment names its rules and audience read
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreModelRecord:
    id: str
    name: str
    description: str
    state: ModelState
    latest_version: int
    published_version: int | None
    entity: str
    schedule_cron: str
    created_at: datetime
    updated_at: datetime
    created_by: str
    last_run_at: datetime | None
    last_scheduled_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreRunRecord:
    id: str
    model_id: str
    version: int
    at: datetime
    scored: int  # profiles in the audience, scored
    changed: int  # profiles whose score, grade or sales-ready flag changed
    cleared: int  # profiles that left the audience and lost their score
    newly_sales_ready: int
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    at: datetime
    version: int
    score: float | None  # None: the profile left the audience
    grade: str | None
    sales_ready: bool
