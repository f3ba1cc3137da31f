"""Calendar logic for relative dates: pure functions of (`now`, time zone), shared by the
validator (which resolves windows into concrete bounds) and the reference evaluator.

Rules (see docs/query-language.md, "Dates and times"):
- Days begin at local midnight in the segment's time zone, so a day across a DST change lasts
  23 or 25 hours. Datetime bounds are returned as aware UTC datetimes.
- Every window is half-open: start <= value < end, in the attribute's own type.
- `last N units`: datetime [now - N units, now); date [today - N units, today] (today included).
- `next N units`: datetime [now, now + N units); date [today, today + N units].
- `today`, `this month`, `last quarter`...: the whole calendar period. Weeks start on Monday.
- Adding months clamps to the month's last day (Jan 31 + 1 month = Feb 28/29), like Cypher.
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from grammar.ast import (
    CalendarWindow,
    Day,
    DayWindow,
    Relation,
    RollingWindow,
    TimeUnit,
    Window,
)
from graph_schema import AttrType

UTC = dt.UTC
Bound = dt.date | dt.datetime

_DAY_OFFSET = {Day.YESTERDAY: -1, Day.TODAY: 0, Day.TOMORROW: 1}
_MONTHS = {TimeUnit.MONTH: 1, TimeUnit.QUARTER: 3, TimeUnit.YEAR: 12}


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`. Raises ValueError when it does not exist."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # zoneinfo raises several kinds
        raise ValueError(name) from exc


def normalise_now(now: dt.datetime | None) -> dt.datetime:
    """An aware UTC instant: naive values are taken as UTC; None means the current time."""
    if now is None:
        return dt.datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def local_today(now: dt.datetime, tz: ZoneInfo) -> dt.date:
    return now.astimezone(tz).date()


def start_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """Local midnight of `day` in `tz`, as a UTC instant (DST-correct)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def add_months(value: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping the day to the target month's length."""
    index = value.year * 12 + (value.month - 1) + months
    year, month = divmod(index, 12)
    year = min(max(year, dt.MINYEAR), dt.MAXYEAR)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def add_units(value: dt.date, amount: int, unit: TimeUnit) -> dt.date:
    """Calendar arithmetic on a date (or on a local wall-clock datetime: dt.datetime is a
    dt.date, and timedelta/replace keep its time and zone)."""
    match unit:
        case TimeUnit.HOUR:
            return value + dt.timedelta(hours=amount)
        case TimeUnit.DAY:
            return value + dt.timedelta(days=amount)
        case TimeUnit.WEEK:
            return value + dt.timedelta(weeks=amount)
        case TimeUnit.MONTH | TimeUnit.QUARTER | TimeUnit.YEAR:
            return add_months(value, amount * _MONTHS[unit])


def _shift_instant(now: dt.datetime, amount: int, unit: TimeUnit, tz: ZoneInfo) -> dt.datetime:
    """now + amount units: hours are absolute, longer units are local wall-clock time."""
    if unit is TimeUnit.HOUR:
        return now + dt.timedelta(hours=amount)
    local = add_units(now.astimezone(tz), amount, unit)
    assert isinstance(local, dt.datetime)
    return local.astimezone(UTC)


def period_start(day: dt.date, unit: TimeUnit) -> dt.date:
    """First day of the calendar week (Monday), month, quarter or year containing `day`."""
    match unit:
        case TimeUnit.WEEK:
            return day - dt.timedelta(days=day.weekday())
        case TimeUnit.MONTH:
            return day.replace(day=1)
        case TimeUnit.QUARTER:
            return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        case TimeUnit.YEAR:
            return day.replace(month=1, day=1)
        case _:
            raise ValueError(f"{unit.value} is not a calendar period")


def date_range(window: Window, now: dt.datetime, tz: ZoneInfo) -> tuple[dt.date, dt.date]:
    """The window as half-open dates [start, end) (the form for date attributes)."""
    today = local_today(now, tz)
    match window:
        case DayWindow(day=day):
            start = today + dt.timedelta(days=_DAY_OFFSET[day])
            return start, start + dt.timedelta(days=1)
        case CalendarWindow(relation=relation, unit=unit):
            step = {Relation.LAST: -1, Relation.THIS: 0, Relation.NEXT: 1}[relation]
            start = add_units(period_start(today, unit), step, unit)
            return start, add_units(start, 1, unit)
        case RollingWindow(relation=Relation.NEXT, amount=amount, unit=unit):
            return today, add_units(today, amount, unit) + dt.timedelta(days=1)
        case RollingWindow(amount=amount, unit=unit):
            return add_units(today, -amount, unit), today + dt.timedelta(days=1)


def instant_range(
    window: Window, now: dt.datetime, tz: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The window as half-open UTC instants [start, end) (the form for datetime attributes)."""
    match window:
        case RollingWindow(relation=Relation.NEXT, amount=amount, unit=unit):
            return now, _shift_instant(now, amount, unit, tz)
        case RollingWindow(amount=amount, unit=unit):
            return _shift_instant(now, -amount, unit, tz), now
        case _:
            start, end = date_range(window, now, tz)
            return start_of_day(start, tz), start_of_day(end, tz)


def resolve_window(
    window: Window, attr_type: AttrType, now: dt.datetime, tz: ZoneInfo
) -> tuple[Bound, Bound]:
    """[start, end) in the type of the attribute the window applies to."""
    if attr_type is AttrType.DATE:
        return date_range(window, now, tz)
    return instant_range(window, now, tz)


def resolve_relative(
    amount: int, unit: TimeUnit, future: bool, attr_type: AttrType, now: dt.datetime, tz: ZoneInfo
) -> Bound:
    """`N units ago` / `N units from now` as a date (date attributes) or a UTC instant."""
    signed = amount if future else -amount
    if attr_type is AttrType.DATE:
        return add_units(local_today(now, tz), signed, unit)
    return _shift_instant(now, signed, unit, tz)


def local_instant(value: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A datetime literal as a UTC instant: naive ones are wall-clock time in `tz`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


MAX_ANNIVERSARY_DAYS = 366


def anniversary_days(window: Window, now: dt.datetime, tz: ZoneInfo) -> tuple[int, ...]:
    """month * 100 + day for every day of the window (as dates), sorted. People born on
    Feb 29 celebrate on Feb 28 in non-leap years, so 229 joins whenever a non-leap Feb 28 does.
    """
    start, end = date_range(window, now, tz)
    days = min((end - start).days, MAX_ANNIVERSARY_DAYS)
    found: set[int] = set()
    for i in range(max(days, 0)):
        day = start + dt.timedelta(days=i)
        found.add(day.month * 100 + day.day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            found.add(229)
    return tuple(sorted(found))


def shift(value: Bound, amount: int, unit: TimeUnit) -> Bound:
    """value + duration, as Cypher adds `duration({unit: amount})` to a stored value: months
    first with clamping, then days, then hours (UTC datetimes: a day is 24 hours)."""
    return add_units(value, amount, unit)
