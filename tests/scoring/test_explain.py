"""Explanations add up: log-odds to the calibrated logit, points to score minus base score."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import (
    FeatureMatrix,
    TrainedModel,
    explain_rows,
    feature_influence,
    predict_probabilities,
)
from scoring.explain import contributions, predict_explained, top_contributions, top_order


def test_contributions_sum_to_the_calibrated_log_odds(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    model, matrix = synthetic_model, synthetic_matrix
    found = contributions(model, matrix)
    p = predict_probabilities(model, matrix)
    assert found.baseline + found.log_odds.sum(axis=1) == pytest.approx(np.log(p / (1 - p)))


def test_row_explanations_sum_to_the_score_and_rank_by_size(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    model, matrix = synthetic_model, synthetic_matrix
    rows = explain_rows(model, matrix.rows(range(20)), top=0)
    p = predict_probabilities(model, matrix.rows(range(20)))
    for row, prob in zip(rows, p, strict=True):
        assert row.probability == pytest.approx(prob)
        assert sum(c.points for c in row.contributions) == pytest.approx(row.score - row.base_score)
        sizes = [abs(c.log_odds) for c in row.contributions]
        assert sizes == sorted(sizes, reverse=True)
        assert len(row.contributions) == 4


def test_the_planted_signal_moves_scores_most(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    model, matrix = synthetic_model, synthetic_matrix
    assert feature_influence(model, matrix)[0][0] == "strong"
    extreme = int(np.argmax(np.abs(matrix.column("strong"))))
    top = explain_rows(model, matrix.rows([extreme]), top=2)[0].contributions
    assert len(top) == 2
    assert (top[0].feature, top[0].label) == ("strong", "Strong signal")
    assert top[0].value == matrix.values[extreme, 0]


@pytest.mark.parametrize("top", [0, 1, 3])
def test_array_explanations_equal_the_row_by_row_ones(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix, top: int
) -> None:
    model, matrix = synthetic_model, synthetic_matrix.rows(range(300))
    rows = explain_rows(model, matrix, top=top)
    found = top_contributions(model, matrix, top=top)
    assert found.base_score == pytest.approx(rows[0].base_score)
    assert found.scores == pytest.approx([r.score for r in rows])
    names = model.metadata.feature_names
    for i, row in enumerate(rows):
        assert [names[j] for j in found.features[i]] == [c.feature for c in row.contributions]
        assert found.log_odds[i] == pytest.approx([c.log_odds for c in row.contributions])
        assert found.points[i] == pytest.approx([c.points for c in row.contributions])
        assert np.array_equal(found.values[i], [c.value for c in row.contributions],
                              equal_nan=True)  # fmt: skip


def test_one_pass_probabilities_equal_predict_proba_exactly(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    probabilities, _ = predict_explained(synthetic_model, synthetic_matrix)
    assert np.array_equal(probabilities, predict_probabilities(synthetic_model, synthetic_matrix))


def test_top_order_equals_a_stable_sort_with_ties_and_nan() -> None:
    rng = np.random.default_rng(1)
    terms = rng.normal(size=(2_000, 30)).round(1)  # many ties
    terms[rng.random(terms.shape) < 0.4] = 0.0
    terms[:50] = 0.0  # all tied
    terms[50:100, :28] = 0.0  # fewer non-zero terms than asked for
    terms[100:150, 3] = np.nan
    size = np.abs(terms)
    size[np.isnan(size)] = -np.inf  # argsort puts NaN last, as -inf here
    for top in (1, 5, 29):
        expected = np.argsort(-size, axis=1, kind="stable")[:, :top]
        assert np.array_equal(top_order(terms, top), expected)
