"""The column path's arithmetic on hand-built columns (no Neo4j): window edges, records after
`now` or without a time, missing numbers, profiles without records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from graph_schema import default_schema
from server.features.columns import MISSING
from server.features.fold import Floats, epoch_us, fold_activity
from server.features.plan import NEVER_DAYS, Activity, FeaturePlan, plan_features

NOW = dt.datetime(2026, 11, 1, 12, 0, 0, 250_000, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def plan_and(entity: str) -> tuple[FeaturePlan, Activity]:
    plan = plan_features(default_schema(), "Customer",
                         categories={("EmailEvent", "type"): ("click", "open")})  # fmt: skip
    return plan, next(a for a in plan.activities if a.related.entity.name == entity)


def ms(at: dt.datetime) -> int:
    return epoch_us(at) // 1000


def column(plan: FeaturePlan, activity: Activity, values: Floats, name: str) -> list[float]:
    group = plan.groups()[len(plan.to_one) + plan.activities.index(activity)]
    found: list[float] = values[:, [f.name for f in group].index(name)].tolist()
    return found


def test_epoch_microseconds_are_exact() -> None:
    assert epoch_us(dt.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=dt.UTC)) == 1_000_005


def test_datetime_windows_edges_and_missing_times() -> None:
    plan, emails = plan_and("EmailEvent")
    times = [NOW, NOW + dt.timedelta(milliseconds=1), NOW - 30 * DAY,
             NOW - 30 * DAY - dt.timedelta(milliseconds=1), None, NOW - 2 * DAY]  # fmt: skip
    columns = {
        "owner": [0, 0, 0, 0, 0, 2],  # profile 1 has no records
        "t": [MISSING if t is None else ms(t) for t in times],
        "c0": [0, 0, 1, 0, 0, -1],  # click, click (after now), open, click, click (no time), other
    }
    values = fold_activity(emails, plan, columns, 3, NOW)

    def col(name: str) -> list[float]:
        return column(plan, emails, values, name)

    assert col("EmailEvent.count_30d") == [2, 0, 1]  # at now and exactly 30 days before
    assert col("EmailEvent.count_all") == [3, 0, 1]
    assert col("EmailEvent.days_since_last") == [0.0, NEVER_DAYS, 2.0]
    assert col("EmailEvent.type=click.count_30d") == [1, 0, 0]
    assert col("EmailEvent.type=open.count_30d") == [1, 0, 0]
    assert col("EmailEvent.type=click.count_365d") == [2, 0, 0]


def test_days_since_last_counts_whole_seconds() -> None:
    plan, emails = plan_and("EmailEvent")
    at = NOW - dt.timedelta(days=1, seconds=10, milliseconds=900)
    columns = {"owner": [0], "t": [ms(at)], "c0": [-1]}
    values = fold_activity(emails, plan, columns, 1, NOW)
    assert column(plan, emails, values, "EmailEvent.days_since_last") == [
        pytest.approx((86_400 + 10) / 86_400)]  # fmt: skip


def test_numbers_sum_in_365_days_and_average_every_counted_record() -> None:
    plan, orders = plan_and("Order")
    times = [NOW - 10 * DAY, NOW - 400 * DAY, NOW - 20 * DAY, NOW + DAY]
    columns: dict[str, list[Any]] = {
        "owner": [0, 0, 0, 0],
        "t": [ms(t) for t in times],
        "n0": [10.0, 30.0, float("nan"), 1000.0],  # total: missing on one, one after now
        **{f"c{j}": [-1] * 4 for j in range(len(orders.categories))},
    }
    values = fold_activity(orders, plan, columns, 2, NOW)
    assert column(plan, orders, values, "Order.total.sum_365d") == [10.0, 0.0]
    avg = column(plan, orders, values, "Order.total.avg")
    assert avg[0] == 20.0
    assert np.isnan(avg[1])


def test_dates_are_ages_in_days() -> None:
    plan, leads = plan_and("Lead")
    # ages: on the 30-day edge, a day past it, tomorrow, none; the converted flag on each
    columns = {"owner": [0, 0, 0, 1], "t": [30, 31, -1, MISSING], "f0": [1, 0, 1, 1]}
    values = fold_activity(leads, plan, columns, 2, NOW)
    assert column(plan, leads, values, "Lead.count_30d") == [1, 0]
    assert column(plan, leads, values, "Lead.count_all") == [2, 0]
    assert column(plan, leads, values, "Lead.days_since_last") == [30.0, NEVER_DAYS]
    assert column(plan, leads, values, "Lead.converted.true_365d") == [1, 0]
