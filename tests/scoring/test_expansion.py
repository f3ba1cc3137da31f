"""Expansion arithmetic on hand-checked cases, and the PU classifier on a planted group."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.errors import ScoringError, ScoringErrorCode
from scoring.expansion import (
    Band,
    band,
    histogram,
    holdout_quality,
    output_size,
    reach,
    select_output,
    standardized_difference,
)
from scoring.similarity import SimilarityConfig, score_similarity


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.0, Band.NOT_SIMILAR), (0.5499, Band.NOT_SIMILAR), (0.55, Band.SOMEWHAT_SIMILAR),
     (0.6999, Band.SOMEWHAT_SIMILAR), (0.7, Band.SIMILAR), (0.8499, Band.SIMILAR),
     (0.85, Band.VERY_SIMILAR), (1.0, Band.VERY_SIMILAR)],
)  # fmt: skip
def test_bands_start_at_their_lower_bound(score: float, expected: Band) -> None:
    assert band(score) is expected


def test_output_size_rounds_a_percent_of_the_population() -> None:
    assert output_size(1000, 20) == 200
    assert output_size(7, 20) == 1  # 1.4 rounds to 1
    assert output_size(3, 1) == 1  # never empty for a non-empty population
    assert output_size(0, 20) == 0
    assert output_size(10, 100) == 10
    for bad in (0, -5, 100.5):
        with pytest.raises(ValueError, match="percent"):
            output_size(10, bad)


def test_the_output_is_the_best_scores_and_never_below_the_floor() -> None:
    scores = arr(0.9, 0.39, 0.5, 0.95, 0.4, 0.1)
    assert select_output(scores, 2).tolist() == [3, 0]
    # six asked for: only the four at or above 0.4 come out, best first
    assert select_output(scores, 6).tolist() == [3, 0, 2, 4]
    assert select_output(arr(0.8, 0.8, 0.8), 2).tolist() == [0, 1]  # ties by row order


def test_holdout_quality_on_a_hand_checked_case() -> None:
    population = arr(0.9, 0.8, 0.3, 0.5, 0.6, 0.45, 0.2, 0.1, 0.95, 0.7)
    hidden = arr(0.85, 0.5)
    # 30% of 10 = 3 picked of 12 candidates: 0.95, 0.9 (population) and 0.85 (hidden)
    q = holdout_quality(hidden, population, 30)
    assert (q.hidden, q.candidates, q.output, q.recovered) == (2, 12, 3, 1)
    assert q.precision == pytest.approx(1 / 3)
    assert q.random_precision == pytest.approx(2 / 12)
    assert q.lift == pytest.approx(2.0)
    # 20%: 0.95 and 0.9 only, nothing recovered
    assert holdout_quality(hidden, population, 20).recovered == 0


def test_holdout_quality_respects_the_floor_and_counts_ties_against_hidden() -> None:
    q = holdout_quality(arr(0.5), arr(0.3, 0.2, 0.35, 0.1), 50)
    # size 2, but 0.35 is under the floor: one profile picked, the hidden one
    assert (q.output, q.recovered, q.precision) == (1, 1, 1.0)
    assert q.lift == pytest.approx(5.0)
    tie = holdout_quality(arr(0.6), arr(0.6), 100)
    assert (tie.output, tie.recovered, tie.lift) == (1, 0, 0.0)


def test_holdout_quality_on_a_population_sample_counts_each_row_as_many() -> None:
    # 4 sampled rows standing for 12 profiles; 50% of 12 = 6: 0.9 (weight 3), then the hidden
    # 0.85 (weight 1); 0.8 would make 7
    q = holdout_quality(arr(0.85, 0.3), arr(0.9, 0.8, 0.2, 0.5), 50, population_weight=3)
    assert (q.candidates, q.output, q.recovered) == (14, 4, 1)  # 0.9 (3) + hidden 0.85 (1)
    assert q.precision == pytest.approx(1 / 4)
    assert q.random_precision == pytest.approx(2 / 14)
    assert q.lift == pytest.approx((1 / 4) / (2 / 14))


def test_histogram_reach_and_standardized_difference() -> None:
    scores = arr(0.0, 0.05, 0.41, 0.55, 0.7, 0.86, 1.0)
    assert histogram(scores) == (2, 0, 0, 0, 1, 1, 0, 1, 1, 1)
    assert reach(scores) == (5, 4, 3, 2)
    assert standardized_difference(arr(2, 4), arr(0, 2)) == pytest.approx(2.0)
    assert standardized_difference(arr(np.nan), arr(1, 2)) == 0.0
    assert standardized_difference(arr(1, 1), arr(1, 1)) == 0.0


def planted(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A population of 3000 with a 5% group near (2, -1) in two of five noisy columns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, size=(3000, 5))
    group = rng.random(3000) < 0.05
    x[group, 0] = 2 + rng.normal(0, 0.2, group.sum())
    x[group, 1] = -1 + rng.normal(0, 0.2, group.sum())
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values are allowed
    return x, group, rng.random(3000) < 0.5  # half the group is the known source


def test_the_classifier_finds_the_planted_group_and_is_deterministic() -> None:
    x, group, known = planted()
    source, rest = group & known, ~(group & known)
    scores = score_similarity(x[source], x[rest])
    lookalikes = group[rest]
    top = np.argsort(-scores.population, kind="stable")[: lookalikes.sum()]
    assert lookalikes[top].mean() > 0.6  # most of the top are the unlabelled look-alikes
    assert np.median(scores.population[lookalikes]) >= 0.7
    assert np.median(scores.population[~lookalikes]) < 0.4
    again = score_similarity(x[source], x[rest])
    assert np.array_equal(again.population, scores.population)
    sampled = score_similarity(x[source], x[rest], SimilarityConfig(max_unlabelled=1000))
    assert sampled.population.shape == scores.population.shape  # outside rows scored too


def test_the_classifier_refuses_what_it_cannot_train_on() -> None:
    with pytest.raises(ScoringError) as err:
        score_similarity(np.zeros((2, 3)), np.zeros((10, 3)))
    assert err.value.code is ScoringErrorCode.INVALID_TRAINING_DATA
    with pytest.raises(ScoringError):
        score_similarity(np.zeros((5, 3)), np.zeros((10, 2)))
    with pytest.raises(ScoringError):
        score_similarity(np.zeros((5, 3)), np.zeros((0, 3)))
    with pytest.raises(ScoringError):
        score_similarity(np.full((5, 2), np.nan), np.full((10, 2), np.nan))


def test_columns_without_any_value_are_left_out() -> None:
    x, group, known = planted()
    empty = np.hstack([x, np.full((len(x), 1), np.nan)])
    source, rest = group & known, ~(group & known)
    with_empty = score_similarity(empty[source], empty[rest])
    assert np.array_equal(with_empty.population, score_similarity(x[source], x[rest]).population)


def test_progress_hears_every_fold_trained_then_every_share_scored() -> None:
    x, group, known = planted()
    source, rest = group & known, ~(group & known)
    heard: list[tuple[str, int, int]] = []
    config = SimilarityConfig(folds=4)
    scores = score_similarity(x[source], x[rest], config, lambda *step: heard.append(step))
    assert heard == [("training", i, 4) for i in range(5)] + [("scoring", i, 4) for i in range(5)]
    quiet = score_similarity(x[source], x[rest], config)
    assert np.array_equal(scores.population, quiet.population)  # listening changes nothing
