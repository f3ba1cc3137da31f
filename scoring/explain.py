"""Per-row explanations: which features moved a profile's score, and by how much.

For the logistic pipeline the calibrated log-odds are exactly additive:
    logit(p) = baseline + sum_j slope * coef_j * z_j
where z_j is feature j after imputing, squashing and standardising (0 is the training
average), and slope/baseline come from the sigmoid calibrator. Each term is the feature's
contribution in log-odds; in score points the contributions share out (score - base score)
in proportion to their log-odds, so they also sum to the difference exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.matrix import FeatureMatrix, Floats
from scoring.model import TrainedModel, aligned_values


def expit(x: float | Floats) -> Floats:
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64))), dtype=np.float64)


def logit(p: Floats) -> Floats:
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    return np.asarray(np.log(q / (1 - q)), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    label: str
    value: float  # the raw feature value (NaN if missing)
    log_odds: float
    points: float  # on the 0-100 score scale


@dataclass(frozen=True, slots=True)
class RowExplanation:
    key: str
    probability: float
    score: float  # 100 * probability, unrounded so contributions add up
    base_score: float  # the score of a profile at the training average
    contributions: tuple[Contribution, ...]  # largest |log_odds| first


@dataclass(frozen=True, slots=True)
class Contributions:
    baseline: float  # calibrated log-odds at the training average
    log_odds: Floats  # (rows, features)


def contributions(model: TrainedModel, matrix: FeatureMatrix) -> Contributions:
    """Every feature's log-odds contribution for every row.

    Raises ScoringError(FEATURE_MISMATCH) when the matrix lacks the model's features.
    """
    return _explained(model, matrix)[0]


def _explained(model: TrainedModel, matrix: FeatureMatrix) -> tuple[Contributions, Floats]:
    """The contributions and the calibrated probabilities from one pass through the pipeline:
    the probabilities are computed as `CalibratedClassifierCV.predict_proba` computes them
    with one calibrated classifier (`ensemble=False`), so they equal `predict_probabilities`
    exactly while the rows are transformed once instead of twice."""
    calibrated = model.estimator.calibrated_classifiers_[0]
    base, calibrator = calibrated.estimator, calibrated.calibrators[0]
    z = base[:-1].transform(aligned_values(model, matrix))
    linear = base[-1]
    probabilities = np.asarray(calibrator.predict(linear.decision_function(z)), dtype=np.float64)
    probabilities[(probabilities > 1.0) & (probabilities <= 1.0 + 1e-5)] = 1.0
    at_zero, at_one = logit(calibrator.predict(np.array([0.0, 1.0])))
    slope = float(at_one - at_zero)
    baseline = float(at_zero + slope * linear.intercept_[0])
    z = np.asarray(z, dtype=np.float64)
    z *= slope * linear.coef_[0]  # in place: the transform's own copy, 0.8 GB at 1M x 100
    return Contributions(baseline, z), probabilities


def explain_rows(
    model: TrainedModel, matrix: FeatureMatrix, *, top: int = 5
) -> list[RowExplanation]:
    """The `top` features that moved each row's score most (top=0: all of them).

    Raises ScoringError(FEATURE_MISMATCH) when the matrix lacks the model's features.
    """
    found = contributions(model, matrix)
    base_score = 100 * float(expit(found.baseline))
    values = aligned_values(model, matrix)
    names = model.metadata.feature_names
    out = []
    for row, key in enumerate(matrix.keys):
        terms = found.log_odds[row]
        score = 100 * float(expit(found.baseline + terms.sum()))
        share = _points_per_log_odds(terms, score - base_score)
        order = np.argsort(-np.abs(terms), kind="stable")[: top or None]
        picked = tuple(
            Contribution(names[j], model.metadata.feature_labels.get(names[j], names[j]),
                         float(values[row, j]), float(terms[j]), float(terms[j] * share))
            for j in order.tolist()
        )  # fmt: skip
        out.append(RowExplanation(key, score / 100, score, base_score, picked))
    return out


@dataclass(frozen=True, slots=True)
class TopContributions:
    """`explain_rows` for many rows as arrays: row i's j-th largest contribution is feature
    `features[i, j]` (a column of the model), worth `log_odds[i, j]` and `points[i, j]`."""

    base_score: float
    scores: Floats  # (rows,) 100 * probability, unrounded
    features: npt.NDArray[np.intp]  # (rows, top)
    values: Floats  # (rows, top) the raw feature values (NaN if missing)
    log_odds: Floats  # (rows, top)
    points: Floats  # (rows, top)


def top_contributions(
    model: TrainedModel, matrix: FeatureMatrix, *, top: int = 5
) -> TopContributions:
    """The same numbers as `explain_rows`, without a Python loop per row (scoring runs explain
    every profile: 1M rows in seconds rather than minutes). top=0: all features.

    Raises ScoringError(FEATURE_MISMATCH) when the matrix lacks the model's features.
    """
    return predict_explained(model, matrix, top=top)[1]


def predict_explained(
    model: TrainedModel, matrix: FeatureMatrix, *, top: int = 5
) -> tuple[Floats, TopContributions]:
    """`predict_probabilities` and `top_contributions` of the rows in one pass.

    Raises ScoringError(FEATURE_MISMATCH) when the matrix lacks the model's features.
    """
    found, probabilities = _explained(model, matrix)
    terms = found.log_odds
    total = terms.sum(axis=1)
    scores = 100 * expit(found.baseline + total)
    base_score = 100 * float(expit(found.baseline))
    flat = np.abs(total) < 1e-12
    share = np.divide(scores - base_score, np.where(flat, 1.0, total))
    share[flat] = 0.0
    order = top_order(terms, top)
    picked = np.take_along_axis(terms, order, axis=1)
    values = np.take_along_axis(aligned_values(model, matrix), order, axis=1)
    return probabilities, TopContributions(
        base_score, scores, order, values, picked, picked * share[:, None]
    )


def top_order(terms: Floats, top: int) -> npt.NDArray[np.intp]:
    """Per row, the columns of the `top` largest |terms|, largest first, ties in column order
    (as a stable argsort of -|terms|, NaN last). `top` argmax passes over the rows instead of
    sorting them: 0.16 s against 2.4 s for 300k rows x 100 features."""
    size = np.abs(terms)
    if top <= 0 or top >= size.shape[1]:
        return np.argsort(-size, axis=1, kind="stable")[:, : top or None]
    size[np.isnan(size)] = -0.5  # below every |term|, above the picked ones
    rows = np.arange(len(size))
    out = np.empty((len(size), top), dtype=np.intp)
    for j in range(top):
        out[:, j] = size.argmax(axis=1)
        size[rows, out[:, j]] = -1.0
    return out


def _points_per_log_odds(terms: Floats, score_change: float) -> float:
    total = float(terms.sum())
    return 0.0 if abs(total) < 1e-12 else score_change / total


def feature_influence(model: TrainedModel, matrix: FeatureMatrix) -> list[tuple[str, float]]:
    """Mean |log-odds contribution| per feature over the rows, largest first: the factors
    that move scores most across a population."""
    found = contributions(model, matrix)
    mean = np.abs(found.log_odds).mean(axis=0)
    names = model.metadata.feature_names
    return sorted(zip(names, mean.tolist(), strict=True), key=lambda t: -t[1])
