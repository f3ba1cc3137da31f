"""What an expansion segment takes from similarity scores, and how well it would do.

- `band`: the similarity bands users read (not similar < 0.55 <= somewhat < 0.7 <= similar
  < 0.85 <= very similar);
- `select_output`: the top `percent` of the population by score, never a score below `FLOOR`;
- `holdout_quality`: precision and lift at the output size for recovering hidden source members
  ranked among the population, against a random pick of the same size;
- `histogram`, `reach`: the score distribution and the size at each minimum similarity.

Rankings are stable sorts on the score (ties keep row order), so every result is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.intp]
FLOOR = 0.4  # candidates scoring below this are never members, whatever the output size
REACH_THRESHOLDS = (0.4, 0.55, 0.7, 0.85)
BINS = 10


class Band(StrEnum):
    NOT_SIMILAR = "NOT_SIMILAR"
    SOMEWHAT_SIMILAR = "SOMEWHAT_SIMILAR"
    SIMILAR = "SIMILAR"
    VERY_SIMILAR = "VERY_SIMILAR"


_BAND_FLOORS = ((0.85, Band.VERY_SIMILAR), (0.7, Band.SIMILAR), (0.55, Band.SOMEWHAT_SIMILAR))


def band(score: float) -> Band:
    for low, name in _BAND_FLOORS:
        if score >= low:
            return name
    return Band.NOT_SIMILAR


def output_size(population: int, percent: float) -> int:
    """How many profiles `percent` (0 < percent <= 100) of the population is, at least one
    when the population is not empty. Raises ValueError for a percent out of range."""
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    return 0 if population == 0 else max(1, round(population * percent / 100))


def select_output(scores: Floats, size: int) -> Indices:
    """Indices of the `size` best scores at or above FLOOR, best first (ties by row order)."""
    order = np.argsort(-scores, kind="stable")
    best = order[:size]
    return np.asarray(best[scores[best] >= FLOOR], dtype=np.intp)


@dataclass(frozen=True, slots=True, kw_only=True)
class HoldoutQuality:
    hidden: int  # source members hidden before training
    candidates: int  # population plus hidden members: what the output is picked from
    output: int  # profiles picked (the output size, fewer if the floor cut it)
    recovered: int  # hidden members among them
    precision: float  # recovered / output (0 for an empty output)
    random_precision: float  # hidden / candidates: what a random pick of any size expects
    lift: float  # precision / random_precision (0 when nothing was hidden)


def holdout_quality(
    hidden: Floats, population: Floats, percent: float, population_weight: float = 1.0
) -> HoldoutQuality:
    """Rank hidden members' scores among the population's; pick the output as an expansion of
    `percent` of the population would; count the hidden members recovered. Ties count against
    the hidden members (they are ranked after population rows of the same score).

    `population` may be a uniform sample of the population: each of its rows then stands for
    `population_weight` rows (population size / sample size), so the output size, the picked
    count and the random precision are those of the whole population.

    Raises ValueError for a percent out of range."""
    total = len(population) * population_weight
    size = output_size(round(total), percent)
    candidates = np.concatenate([population, hidden])
    order = np.argsort(-candidates, kind="stable")
    weights = np.where(order >= len(population), 1.0, population_weight)
    taken = (np.cumsum(weights) <= size + 1e-9) & (candidates[order] >= FLOOR)
    picked = order[taken]
    recovered = int(np.count_nonzero(picked >= len(population)))
    output = round(float(weights[taken].sum()))
    precision = recovered / output if output else 0.0
    random = len(hidden) / (total + len(hidden)) if total + len(hidden) else 0.0
    return HoldoutQuality(
        hidden=len(hidden), candidates=round(total) + len(hidden), output=output,
        recovered=recovered, precision=precision, random_precision=random,
        lift=precision / random if random > 0 else 0.0,
    )  # fmt: skip


def histogram(scores: Floats, bins: int = BINS) -> tuple[int, ...]:
    """Counts of scores in `bins` equal bins over [0, 1] (1.0 falls in the last). Edges are
    i / bins, so a band's lower bound (0.7) opens a bin as it opens the band."""
    edges = np.array([i / bins for i in range(bins + 1)])
    at = np.searchsorted(edges, np.clip(scores, 0.0, 1.0), side="right") - 1
    counts = np.bincount(np.minimum(at, bins - 1), minlength=bins)
    return tuple(int(c) for c in counts)


def reach(scores: Floats, thresholds: tuple[float, ...] = REACH_THRESHOLDS) -> tuple[int, ...]:
    """How many profiles score at least each threshold: the size at that minimum similarity."""
    return tuple(int(np.count_nonzero(scores >= t)) for t in thresholds)


def standardized_difference(group: Floats, others: Floats) -> float:
    """(mean of group - mean of others) / pooled standard deviation, NaN values ignored;
    0 when either side has no values or both are constant."""
    a, b = group[~np.isnan(group)], others[~np.isnan(others)]
    if len(a) == 0 or len(b) == 0:
        return 0.0
    pooled = math.sqrt((float(np.var(a)) + float(np.var(b))) / 2)
    return 0.0 if pooled == 0 else (float(np.mean(a)) - float(np.mean(b))) / pooled


def share_difference(group: Floats, others: Floats) -> float:
    """Cohen's h between the shares of 1s in two 0/1 columns (NaN ignored): an effect size on
    the scale of `standardized_difference`; 0 when either side is empty."""
    a, b = group[~np.isnan(group)], others[~np.isnan(others)]
    if len(a) == 0 or len(b) == 0:
        return 0.0
    return 2 * math.asin(math.sqrt(float(np.mean(a)))) - 2 * math.asin(math.sqrt(float(np.mean(b))))
