"""Immutable values of exports: what an export carries where, and what each run did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DestinationKind(StrEnum):
    FOLDER_CSV = "FOLDER_CSV"  # one CSV file per segment per run under the export root
    FOLDER_PARQUET = "FOLDER_PARQUET"  # the same as Parquet, a row group per batch
    HTTP_JSONL = "HTTP_JSONL"  # JSON lines POSTed in chunks to a URL

    @property
    def folder(self) -> bool:
        return self is not DestinationKind.HTTP_JSONL


class TriggerKind(StrEnum):
    MANUAL = "MANUAL"  # only when asked (runExport)
    SCHEDULE = "SCHEDULE"  # on its cron expression, read in its time zone
    AFTER_REFRESH = "AFTER_REFRESH"  # whenever one of its segments refreshes successfully


class ExportState(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"  # runs only when asked


class ExportRunStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


PENDING = (ExportRunStatus.QUEUED, ExportRunStatus.RUNNING)


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    kind: DestinationKind
    path: str | None = None  # folder kinds: relative to the export root
    url: str | None = None  # HTTP_JSONL
    headers: tuple[tuple[str, str], ...] = ()  # HTTP_JSONL: sent with every request


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    kind: TriggerKind
    cron: str | None = None  # SCHEDULE
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True, kw_only=True)
class CarriedSegment:
    id: str
    name: str
    audience: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRecord:
    id: str
    name: str
    description: str
    state: ExportState
    destination: Destination
    columns: tuple[str, ...] | None  # None: every attribute of the audience
    trigger: Trigger
    segments: tuple[CarriedSegment, ...]  # in the order chosen
    lost_segments: tuple[str, ...]  # names of force-deleted segments it carried
    last_run_status: ExportRunStatus | None
    last_run_at: datetime | None
    last_scheduled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSegment:
    """What one run wrote of one segment."""

    segment_id: str
    name: str
    rows: int
    file: str | None  # the file written (relative to the export root); None for HTTP


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRunRecord:
    id: str
    export_id: str
    seq: int  # the export's run number: part of the job id
    status: ExportRunStatus
    trigger: str
    job_id: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    segments: tuple[RunSegment, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewExport:
    """What create and update write (update: the whole new state)."""

    id: str
    name: str
    description: str
    state: ExportState
    destination: Destination
    columns: tuple[str, ...] | None
    trigger: Trigger
    segment_ids: tuple[str, ...]
