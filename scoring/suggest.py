"""Segment proposals from data: the leaves of a regression tree on a measure, and the cut
points of recency and frequency for RFM cells.

Pure functions on arrays. The caller turns each proposal into a definition in the segment
language and evaluates that definition, so what users see is what the language selects, not
what the tree believed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]
from sklearn.tree import DecisionTreeRegressor

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Split:
    """`column <= threshold` when `upper`, else `column > threshold`."""

    column: int
    upper: bool
    threshold: float


@dataclass(frozen=True, slots=True)
class Leaf:
    splits: tuple[Split, ...]  # the path from the root, one per column and side at most
    size: int  # rows of the training sample in the leaf
    mean: float


def tree_leaves(
    x: Floats, y: Floats, *, max_depth: int = 3, min_leaf_share: float = 0.05, seed: int = 0
) -> list[Leaf]:
    """The leaves of a regression tree of `y` on the columns of `x` (NaN allowed in `x`), the
    most different from the mean of `y` first. Rows where `y` is NaN are left out."""
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    if len(y) < 20 or x.shape[1] == 0 or float(np.nanstd(y)) == 0.0:
        return []
    tree = DecisionTreeRegressor(
        max_depth=max_depth, min_samples_leaf=max(10, math.ceil(min_leaf_share * len(y))),
        random_state=seed,
    ).fit(x, y)  # fmt: skip
    t = tree.tree_
    leaves: list[Leaf] = []

    def walk(node: int, path: tuple[Split, ...]) -> None:
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == right:  # a leaf
            leaves.append(
                Leaf(_simplify(path), int(t.n_node_samples[node]), float(t.value[node][0][0]))
            )
            return
        column, threshold = int(t.feature[node]), float(t.threshold[node])
        walk(left, (*path, Split(column, True, threshold)))
        walk(right, (*path, Split(column, False, threshold)))

    walk(0, ())
    mean = float(y.mean())
    return sorted(leaves, key=lambda leaf: -abs(leaf.mean - mean))


def _simplify(path: tuple[Split, ...]) -> tuple[Split, ...]:
    """One bound per column and side: the tightest (a path may cut a column twice)."""
    tightest: dict[tuple[int, bool], Split] = {}
    for s in path:
        found = tightest.get((s.column, s.upper))
        if found is None or (
            s.threshold < found.threshold if s.upper else s.threshold > found.threshold
        ):
            tightest[(s.column, s.upper)] = s
    return tuple(sorted(tightest.values(), key=lambda s: (s.column, not s.upper)))


def welch_p(inside: Floats, outside: Floats) -> float:
    """Two-sided p-value that the two means are equal (Welch's t-test); 1 when undecidable."""
    if len(inside) < 2 or len(outside) < 2:
        return 1.0
    if np.ptp(inside) == 0 and np.ptp(outside) == 0:  # two constants: no noise to test against
        return 0.0 if inside[0] != outside[0] else 1.0
    with warnings.catch_warnings():  # near-constant groups: scipy warns, the p-value stands
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(inside, outside, equal_var=False)
    p = float(result.pvalue)
    return 1.0 if math.isnan(p) else p


@dataclass(frozen=True, slots=True)
class Cuts:
    """Two cut points splitting a variable into three levels (1 low .. 3 high)."""

    low: float
    high: float


def tercile_cuts(values: Floats) -> Cuts:
    """The 1/3 and 2/3 quantiles of the finite values."""
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return Cuts(0.0, 0.0)
    low, high = np.quantile(finite, [1 / 3, 2 / 3])
    return Cuts(float(low), float(high))


# Names of the RFM cells by (recency level, frequency level), 3 = most recent / most frequent;
# the usual marketing names for a three-by-three grid.
RFM_NAMES: dict[tuple[int, int], tuple[str, str]] = {
    (3, 3): ("champions", "Champions: recent and frequent"),
    (2, 3): ("loyal", "Loyal: frequent, fairly recent"),
    (1, 3): ("at_risk", "At risk: were frequent, not seen lately"),
    (3, 2): ("potential_loyalists", "Potential loyalists: recent, growing frequency"),
    (2, 2): ("need_attention", "Need attention: middling recency and frequency"),
    (1, 2): ("about_to_sleep", "About to sleep: fading"),
    (3, 1): ("new", "New: recent first activity"),
    (2, 1): ("promising", "Promising: some recent activity"),
    (1, 1): ("lost", "Lost: rare and long ago"),
}
