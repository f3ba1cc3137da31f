"""When segments refresh by themselves: the system cadence and per-segment cron schedules.

Pure functions with the clock passed in. A schedule fires when a cron time falls in
(last handled time, now]; several missed times (a worker was down) fire once.
Static segments and MANUAL schedules never fire; inactive or draft segments that are due are
SKIPPED with the reason, as the reference texts describe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from server.refresh.records import SegmentInfo


class InvalidSchedule(ValueError):
    """A cron expression or time zone that cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemSchedule:
    cron: str
    timezone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DuePlan:
    refresh: tuple[str, ...]
    skip: dict[str, str]  # segment id -> reason


def check_schedule(cron: str, timezone: str) -> None:
    """Raises InvalidSchedule for an unusable cron expression (5 fields) or time zone."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidSchedule(f"unknown time zone {timezone!r}") from exc
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise InvalidSchedule(f"not a 5-field cron expression: {cron!r}")


def fires_between(cron: str, timezone: str, after: datetime, until: datetime) -> bool:
    """Whether `cron`, read in `timezone`, has a time in (after, until]. Raises InvalidSchedule."""
    check_schedule(cron, timezone)
    start = after.astimezone(ZoneInfo(timezone))
    return croniter(cron, start).get_next(datetime) <= until


def effective_cron(segment: SegmentInfo, system: SystemSchedule) -> tuple[str, str] | None:
    """The cron expression and time zone a segment follows, None when it never self-refreshes."""
    if segment.type == "STATIC" or segment.schedule_kind == "MANUAL":
        return None
    if segment.schedule_kind == "CRON" and segment.schedule_cron:
        return segment.schedule_cron, segment.timezone
    return system.cron, system.timezone


def plan_due(segments: list[SegmentInfo], system: SystemSchedule, now: datetime) -> DuePlan:
    """Which segments a tick at `now` refreshes and which it skips (with why)."""
    refresh: list[str] = []
    skip: dict[str, str] = {}
    for segment in segments:
        schedule = effective_cron(segment, system)
        after = segment.last_scheduled_at or segment.created_at
        if schedule is None or not _fires(schedule, after, now):
            continue
        if reason := _not_runnable(segment):
            skip[segment.id] = reason
        else:
            refresh.append(segment.id)
    return DuePlan(refresh=tuple(refresh), skip=skip)


def _fires(schedule: tuple[str, str], after: datetime, now: datetime) -> bool:
    try:
        return fires_between(schedule[0], schedule[1], after, now)
    except InvalidSchedule:
        return False  # the API validates schedules on save; a bad legacy one never fires


def _not_runnable(segment: SegmentInfo) -> str | None:
    if segment.state != "ACTIVE":
        return "inactive segments are not refreshed by the schedule"
    if not segment.valid:
        return "the definition does not compile (draft)"
    return None
