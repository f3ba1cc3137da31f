"""Calendar rules: DST-correct day boundaries, period starts, month clamping, anniversaries."""

from __future__ import annotations

import datetime as dt

import pytest

from grammar import ast as a
from grammar import timewindow as tw
from graph_schema import AttrType

PARIS = tw.zone("Europe/Paris")
UTC = dt.UTC
# 2026-03-29: clocks go from 02:00 to 03:00 in Paris, so the day lasts 23 hours.
NOW = dt.datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


def day(kind: a.Day) -> a.DayWindow:
    return a.DayWindow(day=kind)


def test_today_across_spring_forward_lasts_23_hours() -> None:
    start, end = tw.instant_range(day(a.Day.TODAY), NOW, PARIS)
    assert start == dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert end - start == dt.timedelta(hours=23)


def test_autumn_day_lasts_25_hours() -> None:
    now = dt.datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    start, end = tw.instant_range(day(a.Day.TODAY), now, PARIS)
    assert end - start == dt.timedelta(hours=25)


def test_local_date_decides_today() -> None:
    late = dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # already the 29th in Paris
    assert tw.date_range(day(a.Day.TODAY), late, PARIS)[0] == dt.date(2026, 3, 29)
    assert tw.date_range(day(a.Day.TODAY), late, UTC_ZONE)[0] == dt.date(2026, 3, 28)


UTC_ZONE = tw.zone("UTC")


@pytest.mark.parametrize(
    ("relation", "unit", "start", "end"),
    [
        (a.Relation.THIS, a.TimeUnit.WEEK, dt.date(2026, 3, 23), dt.date(2026, 3, 30)),
        (a.Relation.LAST, a.TimeUnit.MONTH, dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
        (a.Relation.THIS, a.TimeUnit.QUARTER, dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
        (a.Relation.LAST, a.TimeUnit.QUARTER, dt.date(2025, 10, 1), dt.date(2026, 1, 1)),
        (a.Relation.NEXT, a.TimeUnit.QUARTER, dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
        (a.Relation.NEXT, a.TimeUnit.YEAR, dt.date(2027, 1, 1), dt.date(2028, 1, 1)),
    ],
)
def test_calendar_periods(
    relation: a.Relation, unit: a.TimeUnit, start: dt.date, end: dt.date
) -> None:
    window = a.CalendarWindow(relation=relation, unit=unit)
    assert tw.date_range(window, NOW, PARIS) == (start, end)


def test_rolling_windows_by_type() -> None:
    last = a.RollingWindow(relation=a.Relation.LAST, amount=7, unit=a.TimeUnit.DAY)
    assert tw.resolve_window(last, AttrType.DATE, NOW, PARIS) == (
        dt.date(2026, 3, 22),
        dt.date(2026, 3, 30),
    )
    start, end = tw.resolve_window(last, AttrType.DATETIME, NOW, PARIS)
    assert end == NOW
    # a week ago at the same Paris wall-clock time (14:00 CEST now, 14:00 CET then)
    assert start == dt.datetime(2026, 3, 22, 13, 0, tzinfo=UTC)
    hours = a.RollingWindow(relation=a.Relation.LAST, amount=36, unit=a.TimeUnit.HOUR)
    assert tw.instant_range(hours, NOW, PARIS)[0] == NOW - dt.timedelta(hours=36)


def test_months_clamp_to_the_last_day() -> None:
    assert tw.add_months(dt.date(2026, 3, 31), -1) == dt.date(2026, 2, 28)
    assert tw.add_months(dt.date(2024, 3, 31), -1) == dt.date(2024, 2, 29)
    assert tw.add_units(dt.date(2024, 2, 29), 1, a.TimeUnit.YEAR) == dt.date(2025, 2, 28)


def test_relative_values() -> None:
    assert tw.resolve_relative(30, a.TimeUnit.DAY, False, AttrType.DATE, NOW, PARIS) == dt.date(
        2026, 2, 27
    )
    assert tw.resolve_relative(
        1, a.TimeUnit.DAY, True, AttrType.DATETIME, NOW, PARIS
    ) == dt.datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


def test_anniversaries_include_feb_29_in_non_leap_years() -> None:
    window = a.RollingWindow(relation=a.Relation.NEXT, amount=2, unit=a.TimeUnit.DAY)
    feb27 = dt.datetime(2026, 2, 27, 12, 0, tzinfo=UTC)
    assert tw.anniversary_days(window, feb27, PARIS) == (227, 228, 229, 301)
    leap = dt.datetime(2028, 2, 27, 12, 0, tzinfo=UTC)
    assert tw.anniversary_days(window, leap, PARIS) == (227, 228, 229)


def test_anniversary_over_new_year_and_whole_year() -> None:
    window = a.RollingWindow(relation=a.Relation.NEXT, amount=3, unit=a.TimeUnit.DAY)
    dec30 = dt.datetime(2026, 12, 30, 12, 0, tzinfo=UTC)
    assert tw.anniversary_days(window, dec30, UTC_ZONE) == (101, 102, 1230, 1231)
    year = a.RollingWindow(relation=a.Relation.NEXT, amount=2, unit=a.TimeUnit.YEAR)
    assert len(tw.anniversary_days(year, NOW, UTC_ZONE)) == 366


def test_naive_datetimes_are_wall_clock_in_the_zone() -> None:
    naive = dt.datetime(2026, 7, 1, 9, 30)
    assert tw.local_instant(naive, PARIS) == dt.datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert tw.normalise_now(naive) == naive.replace(tzinfo=UTC)


def test_unknown_zone() -> None:
    with pytest.raises(ValueError, match="Mars"):
        tw.zone("Mars/Olympus")
