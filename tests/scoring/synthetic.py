"""A small synthetic training set with a known signal: `strong` drives the outcome."""

from __future__ import annotations

import numpy as np

from scoring import FeatureMatrix, build_matrix
from scoring.matrix import Floats

NAMES = ("strong", "weak", "noise", "count")


def synthetic(rows: int = 400, seed: int = 0) -> tuple[FeatureMatrix, Floats]:
    rng = np.random.default_rng(seed)
    strong, weak, noise = rng.normal(size=(3, rows))
    count = rng.poisson(np.exp(0.5 * strong))
    logit = 2.0 * strong + 0.5 * weak + 0.3 * count - 0.5
    outcome = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.float64)
    values = np.column_stack([strong, weak, noise, count])
    values[::17, 1] = np.nan  # some missing values, imputed by the pipeline
    keys = [f"k{i:04d}" for i in range(rows)]
    return build_matrix(keys, NAMES, values, {"strong": "Strong signal"}), outcome
