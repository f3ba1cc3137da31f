"""The proposal functions on planted arrays (no services)."""

from __future__ import annotations

import numpy as np

from scoring.suggest import Split, _simplify, tercile_cuts, tree_leaves, welch_p


def test_the_first_leaf_is_the_planted_group() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 100, size=(2000, 3))
    y = np.where(x[:, 1] > 80, 500.0, 50.0) + rng.normal(0, 5, 2000)
    leaves = tree_leaves(x, y)
    assert leaves[0].mean > 400  # the most different first
    high = [leaf for leaf in leaves if leaf.mean > 400]
    assert sum(leaf.size for leaf in high) == int((x[:, 1] > 80).sum())  # exactly the group
    for leaf in high:
        assert {s.column for s in leaf.splits} == {1}  # the noise columns never split it
        assert 78 < max(s.threshold for s in leaf.splits if not s.upper) < 100
    assert sum(leaf.size for leaf in leaves) == 2000  # leaves partition the sample


def test_missing_measures_are_left_out_and_constant_ones_give_nothing() -> None:
    x = np.arange(100, dtype=float).reshape(-1, 1)
    y = np.full(100, 3.0)
    assert tree_leaves(x, y) == []
    y[:50] = np.nan
    y[50:] = np.arange(50)
    assert sum(leaf.size for leaf in tree_leaves(x, y, min_leaf_share=0.2)) == 50


def test_a_path_keeps_the_tightest_bound_per_side() -> None:
    path = (
        Split(0, True, 50.0),
        Split(0, True, 30.0),
        Split(0, False, 10.0),
        Split(0, False, 20.0),
    )
    assert _simplify(path) == (Split(0, True, 30.0), Split(0, False, 20.0))


def test_welch_and_terciles() -> None:
    assert welch_p(np.full(10, 2.0), np.full(10, 1.0)) == 0.0
    assert welch_p(np.full(10, 2.0), np.full(10, 2.0)) == 1.0
    assert welch_p(np.array([1.0]), np.array([1.0, 2.0])) == 1.0
    rng = np.random.default_rng(0)
    same = welch_p(rng.normal(0, 1, 500), rng.normal(0, 1, 500))
    assert same > 0.001
    cuts = tercile_cuts(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan]))
    assert (cuts.low, cuts.high) == (
        np.quantile([1, 2, 3, 4, 5, 6], 1 / 3),
        np.quantile([1, 2, 3, 4, 5, 6], 2 / 3),
    )
