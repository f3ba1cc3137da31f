"""Holdout metrics: ROC AUC, precision at the top of the ranking, calibration, comparisons.

All functions take outcomes as 0/1 and scores where higher means more likely; the ranking
breaks ties by row order (a stable sort), so results are deterministic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

Floats = npt.NDArray[np.float64]
TOP_FRACTIONS = (0.1, 0.2)


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_predicted: float  # NaN when the bin is empty
    observed_rate: float  # NaN when the bin is empty


@dataclass(frozen=True, slots=True)
class HoldoutMetrics:
    rows: int
    positives: int
    roc_auc: float
    precision_at_10: float
    precision_at_20: float
    base_rate: float
    brier: float | None = None  # only for probabilities
    reliability: tuple[ReliabilityBin, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def precision_at_top(outcome: npt.ArrayLike, scores: npt.ArrayLike, fraction: float) -> float:
    """The share of positives among the ceil(fraction * n) highest scores.

    Raises ValueError for a fraction outside (0, 1] or no rows.
    """
    y, s = _arrays(outcome, scores)
    if not 0 < fraction <= 1:
        raise ValueError("fraction must be in (0, 1]")
    top = np.argsort(-s, kind="stable")[: math.ceil(fraction * len(s))]
    return float(y[top].mean())


def reliability_bins(
    outcome: npt.ArrayLike, probabilities: npt.ArrayLike, bins: int = 10
) -> tuple[ReliabilityBin, ...]:
    """Equal-width probability bins; a probability of exactly 1 falls in the last bin."""
    y, p = _arrays(outcome, probabilities)
    index = np.minimum((p * bins).astype(np.intp), bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        mean_p = float(p[mask].mean()) if n else math.nan
        rate = float(y[mask].mean()) if n else math.nan
        out.append(ReliabilityBin(b / bins, (b + 1) / bins, n, mean_p, rate))
    return tuple(out)


def brier_score(outcome: npt.ArrayLike, probabilities: npt.ArrayLike) -> float:
    y, p = _arrays(outcome, probabilities)
    return float(np.mean((p - y) ** 2))


def holdout_metrics(
    outcome: npt.ArrayLike, scores: npt.ArrayLike, *, probabilities: bool = True
) -> HoldoutMetrics:
    """Every metric of one scorer on one holdout; calibration only for probabilities.

    Raises ValueError when the outcome has a single class (AUC is undefined).
    """
    y, s = _arrays(outcome, scores)
    if len(np.unique(y)) != 2:
        raise ValueError("the holdout needs both outcomes to measure a ranking")
    return HoldoutMetrics(
        rows=len(y),
        positives=int(y.sum()),
        roc_auc=float(roc_auc_score(y, s)),
        precision_at_10=precision_at_top(y, s, 0.1),
        precision_at_20=precision_at_top(y, s, 0.2),
        base_rate=float(y.mean()),
        brier=brier_score(y, s) if probabilities else None,
        reliability=reliability_bins(y, s) if probabilities else (),
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    names: tuple[str, str]
    metrics: tuple[HoldoutMetrics, HoldoutMetrics]

    @property
    def auc_difference(self) -> float:
        return self.metrics[0].roc_auc - self.metrics[1].roc_auc

    def lines(self) -> list[str]:
        """A small text table for reports."""
        rows = [f"{'':<14}{self.names[0]:>14}{self.names[1]:>14}"]
        for field in ("roc_auc", "precision_at_10", "precision_at_20"):
            a, b = (getattr(m, field) for m in self.metrics)
            rows.append(f"{field:<14}{a:>14.3f}{b:>14.3f}")
        return rows


def compare_scorers(
    outcome: npt.ArrayLike,
    scores: npt.ArrayLike,
    other_scores: npt.ArrayLike,
    *,
    names: tuple[str, str] = ("predictive", "points"),
    other_is_probability: bool = False,
) -> Comparison:
    """Both scorers' metrics on the same holdout rows (the first is a probability).

    Raises ValueError as holdout_metrics does, or when the score arrays differ in length.
    """
    first = holdout_metrics(outcome, scores)
    second = holdout_metrics(outcome, other_scores, probabilities=other_is_probability)
    return Comparison(names, (first, second))


def _arrays(outcome: npt.ArrayLike, scores: npt.ArrayLike) -> tuple[Floats, Floats]:
    y = np.asarray(outcome, dtype=np.float64).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if len(y) != len(s) or not len(y):
        raise ValueError(f"{len(y)} outcomes for {len(s)} scores")
    return y, s
