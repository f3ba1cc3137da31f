"""The column path's arithmetic: the flat lists of `server.features.columns` in, the plan's
feature values out, equal to what the per-profile Cypher of `server.features.cypher` computes.

Times are compared as integers: a datetime's age in microseconds (`$now` has microseconds,
stored datetimes milliseconds), a date's age in days. Every aggregate is a `np.bincount` over
the records' owners, so a profile without records gets 0 counts, 0 sums and NaN averages,
like Cypher's aggregates over no rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from graph_schema import AttrType
from server.features.columns import MISSING
from server.features.plan import NEVER_DAYS, NUMERIC_WINDOW, Activity, FeaturePlan

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
DAY_US = 86_400_000_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Ages:
    """The records of one activity placed in time: which count (not after `now`, with a time)
    and how old they are, in `per_day` units a day."""

    valid: npt.NDArray[np.bool_]
    age: Ints
    per_day: int

    def within(self, days: int) -> npt.NDArray[np.bool_]:
        return self.valid & (self.age <= days * self.per_day)


def epoch_us(now: dt.datetime) -> int:
    """`now` in microseconds since the epoch, exactly (no float on the way)."""
    return (now - EPOCH) // dt.timedelta(microseconds=1)


def ages(activity: Activity, t: Ints, now: dt.datetime) -> Ages:
    """Ages of the records whose times the activity query returned in `t`."""
    present = t != MISSING
    if activity.time.type is AttrType.DATE:
        return Ages(present & (t >= 0), t, 1)  # already days before $today
    age = epoch_us(now) - np.where(present, t, 0) * 1000
    return Ages(present & (age >= 0), age, DAY_US)


def days_since_last(owner: Ints, a: Ages, n: int) -> Floats:
    """Days from the newest counted record to now (whole seconds for datetimes, as Cypher's
    `duration.inSeconds(...).seconds / 86400.0`), NEVER_DAYS without one."""
    youngest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(youngest, owner[a.valid], a.age[a.valid])
    found = youngest != np.iinfo(np.int64).max
    if a.per_day == 1:
        days = youngest.astype(np.float64)
    else:
        days = (youngest // 1_000_000).astype(np.float64) / 86400.0
    return np.where(found, days, NEVER_DAYS)


def sums(owner: Ints, value: Floats, n: int) -> Floats:
    """Per profile, the sum of its records' values (0 without any)."""
    return np.bincount(owner, weights=value, minlength=n).astype(np.float64)


def fold_activity(
    activity: Activity, plan: FeaturePlan, columns: Mapping[str, Sequence[Any]], n: int,
    now: dt.datetime,
) -> Floats:  # fmt: skip
    """The activity's features (columns in `plan.groups()` order) for `n` profiles from the
    lists of its query's record."""
    owner = np.asarray(columns["owner"], dtype=np.int64)
    a = ages(activity, np.asarray(columns["t"], dtype=np.int64), now)

    def count(mask: npt.NDArray[np.bool_]) -> Floats:
        return np.bincount(owner[mask], minlength=n).astype(np.float64)

    out: list[Floats] = [count(a.within(w)) for w in plan.windows]
    out += [count(a.valid), days_since_last(owner, a, n)]
    recent = a.within(NUMERIC_WINDOW)
    for j in range(len(activity.numbers)):
        value = np.asarray(columns[f"n{j}"], dtype=np.float64)
        known = ~np.isnan(value)
        summed = recent & known
        out.append(sums(owner[summed], value[summed], n))
        averaged = a.valid & known
        total = sums(owner[averaged], value[averaged], n)
        counted = np.bincount(owner[averaged], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(counted > 0, total / counted, np.nan))
    for j in range(len(activity.flags)):
        out.append(count(recent & (np.asarray(columns[f"f{j}"], dtype=np.int64) == 1)))
    for j, (_, values) in enumerate(activity.categories):
        code = np.asarray(columns[f"c{j}"], dtype=np.int64)
        out += [count(a.within(w) & (code == v)) for v in range(len(values))
                for w in plan.category_windows]  # fmt: skip
    return np.column_stack(out) if out else np.zeros((n, 0))


def fold_to_one(rows: Sequence[Sequence[float | None]], n: int, width: int) -> Floats:
    """The to-one parts' numbers of `n` profiles (None: NaN)."""
    return np.array(rows, dtype=np.float64) if n else np.zeros((0, width))
