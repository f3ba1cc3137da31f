"""One model trained on the synthetic set, shared by tests that only read it."""

from __future__ import annotations

import pytest

from scoring import FeatureMatrix, TrainedModel, train_model
from tests.scoring.synthetic import synthetic


@pytest.fixture(scope="session")
def synthetic_matrix() -> FeatureMatrix:
    return synthetic()[0]


@pytest.fixture(scope="session")
def synthetic_model() -> TrainedModel:
    matrix, outcome = synthetic()
    return train_model(matrix, outcome).model
