"""Which conditions follow the clock, and the instant a moving bound flips a value, checked
against the reference evaluator's own resolution at the instant and a microsecond before."""

from __future__ import annotations

import datetime as dt

import pytest

from grammar import parse
from grammar.ast import CompareOp
from graph_schema import default_schema
from server.live import windows as w

NOW = dt.datetime(2026, 3, 28, 22, 15, 7, 123456, tzinfo=dt.UTC)  # before a DST change (Oslo)
US = dt.timedelta(microseconds=1)


def leaves(text: str) -> list[tuple[list[str], str]]:
    tree = parse(text)
    return [
        ([e.name for e in leaf.chain.entities], leaf.prop.attribute.name if leaf.prop else "")
        for leaf in w.time_leaves(tree, default_schema(), "UTC", NOW)
    ]


def test_conditions_that_follow_the_clock_are_found_where_they_are_read() -> None:
    assert leaves("segment Customer where city = 'Oslo' and satisfaction > 3") == []
    assert leaves("segment Customer where createdOn < 2025-01-01") == []  # a fixed date
    assert leaves("segment Customer where createdOn < 30 days ago") == [(["Customer"], "createdOn")]
    assert leaves(
        "segment Customer where sum Order.total (placedAt in this month) > 3 "
        "or birthDate anniversary in next 7 days"
    ) == [(["Customer", "Order"], "placedAt"), (["Customer"], "birthDate")]
    assert leaves("segment Customer where no Order (any OrderLine (quantity > 2)) "
                  "and any Order (placedAt between 3 days ago and 1 day ago)") == [
        (["Customer", "Order"], "placedAt")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("op", "flips"),
    [(CompareOp.LT, {w.Flip.PASSED}), (CompareOp.GE, {w.Flip.PASSED}),
     (CompareOp.LE, {w.Flip.REACHED}), (CompareOp.GT, {w.Flip.REACHED}),
     (CompareOp.EQ, set(w.Flip))],
)  # fmt: skip
def test_a_comparison_flips_values_on_its_side(op: CompareOp, flips: set[w.Flip]) -> None:
    text = f"segment Customer where createdOn {op.value} 30 days ago"
    tree = parse(text)
    (leaf,) = w.time_leaves(tree, default_schema(), "UTC", NOW)
    node = w.condition_at(w.bind(tree, default_schema(), "UTC", NOW), leaf)
    assert w.boundaries(node) == (w.Boundary(0, frozenset(flips)),)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("segment Customer where any Order (placedAt in last 30 days)",
         dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)),
        ("segment Customer timezone 'Europe/Oslo' where any Order (placedAt in last 2 days)",
         dt.datetime(2026, 3, 27, 23, 30, tzinfo=dt.UTC)),
        ("segment Customer timezone 'Europe/Oslo' where createdOn in last 3 days",
         dt.date(2026, 3, 26)),
        ("segment Account timezone 'America/New_York' where contractRenewalDate in next 60 days",
         dt.date(2026, 6, 1)),
        ("segment Customer where any Order (placedAt in this month)",
         dt.datetime(2026, 3, 2, tzinfo=dt.UTC)),
    ],
)  # fmt: skip
def test_the_first_flip_is_the_instant_the_value_changes_sides(
    text: str, value: dt.date | dt.datetime
) -> None:
    tree, schema = parse(text), default_schema()
    (leaf,) = w.time_leaves(tree, schema, "UTC", NOW)

    def inside(t: dt.datetime) -> bool:
        start, end = w.values(w.condition_at(w.bind(tree, schema, "UTC", t), leaf))
        return bool(start <= value < end)  # the window's own rule

    instants = []
    for index in (0, 1):

        def at(t: dt.datetime, i: int = index) -> w.Bound:
            return w.values(w.condition_at(w.bind(tree, schema, "UTC", t), leaf))[i]

        found = w.first_flip(at, w.Flip.PASSED, value, NOW)
        if found is not None:
            instants.append(found)
    first = min(instants)
    assert inside(first - US) == inside(NOW)  # nothing changes before it
    assert inside(first) != inside(NOW)  # and it changes at it
