"""The refresh engine: versioned memberships written by arq workers, switched atomically.

Public entry points (the API calls these; arq tasks live in server/worker.py):
- jobs: `submit_refresh`, `cancel_refresh`, `reconcile`, `schedule_tick`, `refresh_job_id`
- refresh: `refresh_segment` (one segment now), passes: `refresh_pass` (many, in dependency order)
- runs: `list_runs`, `get_run`, `trend`, `growth`, `entered_keys`, `exited_keys`, `members_as_of`
- order: `check_references` (refuse cycles on save), `topological_order`, `find_cycle`
- schedules: `check_schedule` (validate a cron and time zone on save), `plan_due`
- progress: `read_progress`, `CHANNEL` (pub/sub for the subscription)
- sources: `member_source` (where a run's members come from: a compiled definition, or the
  parent's members in a split group's buckets); `sources_for(schema)` adds expansion segments
  (similar customers, server.expansion); `RefreshEnv.source` swaps it
"""

from server.refresh.jobs import (
    cancel_refresh,
    reconcile,
    refresh_job_id,
    schedule_tick,
    submit_refresh,
)
from server.refresh.order import DependencyCycle, check_references, find_cycle, topological_order
from server.refresh.progress import CHANNEL, read_progress
from server.refresh.records import MemberQuery, RefreshOutcome, RunRecord, RunStatus
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.refresh.runs import (
    entered_keys,
    exited_keys,
    get_run,
    growth,
    list_runs,
    members_as_of,
    trend,
)
from server.refresh.schedules import InvalidSchedule, check_schedule

__all__ = [
    "CHANNEL",
    "DependencyCycle",
    "InvalidSchedule",
    "MemberQuery",
    "RefreshEnv",
    "RefreshOutcome",
    "RunRecord",
    "RunStatus",
    "cancel_refresh",
    "check_references",
    "check_schedule",
    "entered_keys",
    "exited_keys",
    "find_cycle",
    "get_run",
    "growth",
    "list_runs",
    "members_as_of",
    "read_progress",
    "reconcile",
    "refresh_job_id",
    "refresh_segment",
    "schedule_tick",
    "submit_refresh",
    "topological_order",
    "trend",
]
