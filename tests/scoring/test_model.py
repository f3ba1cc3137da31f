"""Training: determinism for a seed, holdout metrics, input checks, feature alignment."""

from __future__ import annotations

import numpy as np
import pytest

from scoring import (
    FeatureMatrix,
    ScoringError,
    ScoringErrorCode,
    TrainedModel,
    TrainingConfig,
    build_matrix,
    predict_probabilities,
    to_scores,
    train_model,
)
from tests.scoring.synthetic import NAMES, synthetic

Code = ScoringErrorCode


def test_training_is_deterministic_for_a_seed() -> None:
    matrix, outcome = synthetic()
    first, second = (train_model(matrix, outcome) for _ in range(2))
    assert first.holdout.keys == second.holdout.keys
    assert np.array_equal(first.holdout_probabilities, second.holdout_probabilities)
    a, b = first.model.metadata, second.model.metadata
    assert (a.metrics, a.data_hash) == (b.metrics, b.data_hash)
    other = train_model(matrix, outcome, config=TrainingConfig(random_state=1))
    assert other.holdout.keys != first.holdout.keys


def test_holdout_metrics_and_metadata_describe_the_training() -> None:
    matrix, outcome = synthetic()
    result = train_model(matrix, outcome, outcome_name="Lead.converted")
    meta = result.model.metadata
    assert meta.metrics.roc_auc > 0.8
    assert meta.metrics.rows == len(result.holdout.keys) == 100
    assert meta.training_rows == 300
    assert meta.feature_names == NAMES
    assert meta.outcome == "Lead.converted"
    assert {"python", "numpy", "scikit-learn", "skops"} <= set(meta.versions)


def test_probabilities_map_to_scores_and_columns_align_by_name(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    model, matrix = synthetic_model, synthetic_matrix
    p = predict_probabilities(model, matrix)
    assert ((p >= 0) & (p <= 1)).all()
    shuffled = build_matrix(matrix.keys, NAMES[::-1], matrix.values[:, ::-1])
    assert predict_probabilities(model, shuffled) == pytest.approx(p)
    assert to_scores([0.0, 0.004, 0.505, 1.0]).tolist() == [0, 0, 50, 100]


def test_scoring_rows_with_other_features_is_an_error(
    synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    model, matrix = synthetic_model, synthetic_matrix
    wrong = build_matrix(matrix.keys, ("strong", "weak", "noise", "other"), matrix.values)
    with pytest.raises(ScoringError) as caught:
        predict_probabilities(model, wrong)
    assert caught.value.code is Code.FEATURE_MISMATCH
    assert caught.value.issues[0].where == "count, other"


@pytest.mark.parametrize(
    ("outcome", "message"),
    [
        ([1.0] * 400, "at least"),
        ([0.0] * 396 + [1.0] * 4, "at least"),
        ([2.0] * 400, "0 or 1"),
        ([1.0, 0.0] * 10, "20 outcomes for 400 rows"),
    ],
)
def test_invalid_training_data_is_reported(outcome: list[float], message: str) -> None:
    matrix, _ = synthetic()
    with pytest.raises(ScoringError, match=message) as caught:
        train_model(matrix, outcome)
    assert caught.value.code is Code.INVALID_TRAINING_DATA


def test_matrix_shape_is_checked() -> None:
    with pytest.raises(ScoringError) as caught:
        build_matrix(["a", "b"], ["x", "x"], [[1, 2], [3, 4]])
    assert caught.value.code is Code.INVALID_TRAINING_DATA
