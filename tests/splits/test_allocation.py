"""Percentages to bucket ranges, and changes that move only the buckets that must move."""

from __future__ import annotations

import pytest

from server.splits.allocation import allocate, buckets_for, percent_of
from server.splits.buckets import Ranges, size


@pytest.mark.parametrize(
    ("percent", "buckets"), [(10, 1000), (12.5, 1250), (0.1, 10), (100, 10_000), (0, 0)]
)
def test_percentages_with_one_decimal_convert(percent: float, buckets: int) -> None:
    assert buckets_for(percent) == buckets


@pytest.mark.parametrize("percent", [12.25, 0.05, -1, 100.1, 150])
def test_other_percentages_are_refused(percent: float) -> None:
    assert buckets_for(percent) is None


def test_a_new_split_lays_groups_out_in_order_from_zero() -> None:
    found = allocate({}, {"a": 1000, "b": 1000, "holdout": 500})
    assert found == {"a": ((0, 1000),), "b": ((1000, 2000),), "holdout": ((2000, 2500),)}
    assert percent_of(found["holdout"]) == 5.0


def test_growing_a_group_takes_free_buckets_and_moves_no_one_else() -> None:
    before = allocate({}, {"a": 1000, "b": 1000})
    after = allocate(before, {"a": 2000})
    assert after["b"] == before["b"]
    assert after["a"] == ((0, 1000), (2000, 3000))


def test_shrinking_gives_back_the_highest_buckets() -> None:
    before = allocate({}, {"a": 3000, "b": 1000})
    after = allocate(before, {"a": 2000})
    assert after == {"a": ((0, 2000),), "b": ((3000, 4000),)}


def test_buckets_given_back_are_taken_first_by_a_growing_group() -> None:
    before = allocate({}, {"a": 5000, "b": 5000})
    after = allocate(before, {"a": 4000, "b": 6000})
    assert after == {"a": ((0, 4000),), "b": ((4000, 10_000),)}


def test_groups_stay_disjoint() -> None:
    state: dict[str, Ranges] = allocate({}, {"a": 3000, "b": 3000, "c": 3000})
    for change in ({"b": 1000}, {"a": 5000}, {"c": 500, "d": 1000}, {"b": 2500}):
        state = allocate(state, change)
        taken = [b for ranges in state.values() for s, e in ranges for b in range(s, e)]
        assert len(taken) == len(set(taken)) == sum(size(r) for r in state.values())


def test_more_than_everything_is_refused() -> None:
    with pytest.raises(ValueError, match="100%"):
        allocate(allocate({}, {"a": 6000}), {"b": 5000})
