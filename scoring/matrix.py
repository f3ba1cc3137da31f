"""Feature rows: the one input shape of the predictive model (and of lookalike expansion).

A `FeatureMatrix` is a key per row, a name per column and float values; NaN marks a missing
value. Whoever builds it (the server from the graph, a test by hand) decides what the names
mean; `labels` optionally gives each name a human description for explanations.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from scoring.errors import ScoringError, ScoringErrorCode

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FeatureMatrix:
    keys: tuple[str, ...]
    names: tuple[str, ...]
    values: Floats  # shape (len(keys), len(names))
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = (len(self.keys), len(self.names))
        if self.values.shape != shape:
            raise ScoringError.one(
                ScoringErrorCode.INVALID_TRAINING_DATA,
                f"values have shape {self.values.shape}, keys and names say {shape}",
            )
        if len(set(self.names)) != len(self.names):
            raise ScoringError.one(ScoringErrorCode.INVALID_TRAINING_DATA, "duplicate names")

    def rows(self, index: npt.NDArray[np.intp] | Sequence[int]) -> FeatureMatrix:
        picked = np.asarray(index, dtype=np.intp)
        keys = tuple(self.keys[i] for i in picked.tolist())
        return FeatureMatrix(keys, self.names, self.values[picked], self.labels)

    def column(self, name: str) -> Floats:
        return np.asarray(self.values[:, self.names.index(name)], dtype=np.float64)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


def build_matrix(
    keys: Sequence[str], names: Sequence[str], values: npt.ArrayLike,
    labels: Mapping[str, str] | None = None,
) -> FeatureMatrix:  # fmt: skip
    """A matrix from any array-like. Raises ScoringError(INVALID_TRAINING_DATA) on bad shapes."""
    array = np.asarray(values, dtype=np.float64).reshape(len(keys), len(names))
    return FeatureMatrix(tuple(keys), tuple(names), array, dict(labels or {}))


def data_hash(matrix: FeatureMatrix, outcome: npt.NDArray[np.float64] | None = None) -> str:
    """A SHA-256 of names, keys, values (and outcome): which data a model version saw."""
    digest = hashlib.sha256()
    for part in (matrix.names, matrix.keys):
        digest.update("\x1f".join(part).encode())
        digest.update(b"\x1e")
    digest.update(np.ascontiguousarray(matrix.values).tobytes())
    if outcome is not None:
        digest.update(np.ascontiguousarray(outcome, dtype=np.float64).tobytes())
    return digest.hexdigest()
