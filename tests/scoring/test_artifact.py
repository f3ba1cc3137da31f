"""Model files: skops round trip with metadata, trusted types only, loaded once per process."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from sklearn.cluster import KMeans

from scoring import (
    FeatureMatrix,
    ModelCache,
    ScoringError,
    ScoringErrorCode,
    TrainedModel,
    load_model,
    model_from_bytes,
    model_to_bytes,
    save_model,
)
from scoring import predict_probabilities as predict


def test_round_trip_keeps_predictions_and_metadata(
    tmp_path: Path, synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    model, matrix = synthetic_model, synthetic_matrix
    loaded = load_model(save_model(model, tmp_path / "models" / "v1.skops"))
    assert loaded.metadata == model.metadata
    assert np.array_equal(predict(loaded, matrix), predict(model, matrix))
    assert not list(tmp_path.glob("models/*.tmp"))


def test_cache_loads_once_and_again_when_the_file_changes(
    tmp_path: Path, synthetic_model: TrainedModel
) -> None:
    path = save_model(synthetic_model, tmp_path / "m.skops")
    cache = ModelCache()
    assert cache.get(path) is cache.get(tmp_path / "." / "m.skops")
    assert cache.loads == 1
    save_model(synthetic_model, path)
    os.utime(path, ns=(1, 1))  # a new file identity even within the clock's resolution
    cache.get(path)
    assert cache.loads == 2


def test_files_with_other_types_or_garbage_are_refused(tmp_path: Path) -> None:
    sio.dump({"estimator": KMeans(n_clusters=2), "metadata": "{}"}, tmp_path / "odd.skops")
    with pytest.raises(ScoringError) as caught:
        load_model(tmp_path / "odd.skops")
    assert caught.value.code is ScoringErrorCode.INVALID_ARTIFACT
    (tmp_path / "junk.skops").write_bytes(b"not a zip")
    with pytest.raises(ScoringError) as junk:
        load_model(tmp_path / "junk.skops")
    assert junk.value.code is ScoringErrorCode.INVALID_ARTIFACT


def test_bytes_round_trip_as_the_file_and_refuse_the_same(
    tmp_path: Path, synthetic_model: TrainedModel, synthetic_matrix: FeatureMatrix
) -> None:
    data = model_to_bytes(synthetic_model)
    loaded = model_from_bytes(data)
    assert loaded.metadata == synthetic_model.metadata
    assert np.array_equal(predict(loaded, synthetic_matrix), predict(synthetic_model,
                                                                     synthetic_matrix))  # fmt: skip
    from_file = load_model(save_model(synthetic_model, tmp_path / "m.skops"))
    assert np.array_equal(predict(from_file, synthetic_matrix), predict(loaded, synthetic_matrix))
    odd = sio.dumps({"estimator": KMeans(n_clusters=2), "metadata": "{}"})
    for bad in (odd, b"not a zip", data[: len(data) // 2]):
        with pytest.raises(ScoringError) as caught:
            model_from_bytes(bad, "m:1")
        assert caught.value.code is ScoringErrorCode.INVALID_ARTIFACT
