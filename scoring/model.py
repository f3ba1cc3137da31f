"""The predictive model: a calibrated scikit-learn pipeline over named features.

impute (median) -> arcsinh (tames counts and money, keeps signs) -> standardise -> logistic
regression, wrapped in sigmoid calibration fitted on out-of-fold predictions. With
`ensemble=False` one base pipeline is fitted on all training rows, so explanations read one
set of coefficients, and the calibrator stays a monotone map of its decision function.
"""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from scoring.errors import ScoringError, ScoringErrorCode
from scoring.matrix import FeatureMatrix, Floats, data_hash
from scoring.metrics import HoldoutMetrics, holdout_metrics

Code = ScoringErrorCode
MODEL_FORMAT = 1  # bump when metadata or pipeline steps change shape


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingConfig:
    random_state: int = 0
    holdout_fraction: float = 0.25
    regularisation: float = 1.0  # LogisticRegression C: smaller is stronger
    calibration_folds: int = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelMetadata:
    feature_names: tuple[str, ...]
    feature_labels: dict[str, str]
    outcome: str
    config: TrainingConfig
    data_hash: str
    training_rows: int
    training_positives: int
    metrics: HoldoutMetrics
    versions: dict[str, str]
    trained_at: str  # ISO 8601, UTC
    format: int = MODEL_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class TrainedModel:
    estimator: Any  # a fitted CalibratedClassifierCV around `build_pipeline`
    metadata: ModelMetadata


@dataclass(frozen=True, slots=True)
class TrainingResult:
    model: TrainedModel
    holdout: FeatureMatrix  # rows kept out of training, for comparisons on the same rows
    holdout_outcome: Floats
    holdout_probabilities: Floats = field(repr=False)
    training_rows: npt.NDArray[np.intp] = field(repr=False)  # indices into the matrix


def build_pipeline(config: TrainingConfig) -> CalibratedClassifierCV:
    """The unfitted estimator for a config (deterministic for its random_state)."""
    base = Pipeline([
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ("squash", FunctionTransformer(np.arcsinh)),
        ("scale", StandardScaler()),
        ("model", LogisticRegression(C=config.regularisation, max_iter=2000,
                                     random_state=config.random_state)),
    ])  # fmt: skip
    rs = config.random_state
    folds = StratifiedKFold(config.calibration_folds, shuffle=True, random_state=rs)
    return CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False)


def train_model(
    matrix: FeatureMatrix,
    outcome: npt.ArrayLike,
    *,
    outcome_name: str = "outcome",
    config: TrainingConfig | None = None,
) -> TrainingResult:
    """Split off a stratified holdout, fit on the rest, measure on the holdout.

    Raises ScoringError(INVALID_TRAINING_DATA) for a length mismatch, labels other than 0/1,
    or too few rows of either class to split and calibrate.
    """
    cfg = config or TrainingConfig()
    y = _check_outcome(matrix, outcome, cfg)
    train_rows, test_rows = train_test_split(
        np.arange(len(y)), test_size=cfg.holdout_fraction, stratify=y,
        random_state=cfg.random_state,
    )  # fmt: skip
    estimator = build_pipeline(cfg).fit(matrix.values[train_rows], y[train_rows])
    holdout = matrix.rows(test_rows)
    probabilities = np.asarray(estimator.predict_proba(holdout.values)[:, 1], dtype=np.float64)
    metadata = ModelMetadata(
        feature_names=matrix.names,
        feature_labels=dict(matrix.labels),
        outcome=outcome_name,
        config=cfg,
        data_hash=data_hash(matrix, y),
        training_rows=len(train_rows),
        training_positives=int(y[train_rows].sum()),
        metrics=holdout_metrics(y[test_rows], probabilities),
        versions=library_versions(),
        trained_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    model = TrainedModel(estimator, metadata)
    return TrainingResult(model, holdout, y[test_rows], probabilities, train_rows)


def _check_outcome(matrix: FeatureMatrix, outcome: npt.ArrayLike, cfg: TrainingConfig) -> Floats:
    y = np.asarray(outcome, dtype=np.float64).ravel()
    if len(y) != len(matrix.keys):
        message = f"{len(y)} outcomes for {len(matrix.keys)} rows"
        raise ScoringError.one(Code.INVALID_TRAINING_DATA, message)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ScoringError.one(Code.INVALID_TRAINING_DATA, "outcomes must be 0 or 1")
    # each class must reach every calibration fold of the training part and the holdout
    needed = int(np.ceil(cfg.calibration_folds / (1 - cfg.holdout_fraction))) + 1
    if min(int(y.sum()), int(len(y) - y.sum())) < needed:
        message = f"need at least {needed} rows of each outcome"
        raise ScoringError.one(Code.INVALID_TRAINING_DATA, message)
    return y


def predict_probabilities(model: TrainedModel, matrix: FeatureMatrix) -> Floats:
    """Calibrated probabilities for rows with the model's features (any column order).

    Raises ScoringError(FEATURE_MISMATCH) when features are missing or extra.
    """
    values = aligned_values(model, matrix)
    return np.asarray(model.estimator.predict_proba(values)[:, 1], dtype=np.float64)


def aligned_values(model: TrainedModel, matrix: FeatureMatrix) -> Floats:
    """The matrix's values in the model's feature order. Raises ScoringError(FEATURE_MISMATCH)."""
    expected = model.metadata.feature_names
    if matrix.names == expected:
        return matrix.values
    missing, extra = set(expected) - set(matrix.names), set(matrix.names) - set(expected)
    if missing or extra:
        where = ", ".join(sorted(missing | extra)[:10])
        raise ScoringError.one(Code.FEATURE_MISMATCH, "missing or unexpected features", where)
    order = [matrix.names.index(n) for n in expected]
    return np.asarray(matrix.values[:, order], dtype=np.float64)


def to_scores(probabilities: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Probabilities to the 0-100 scores sales teams read (rounded half to even)."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    return np.asarray(np.rint(100 * p), dtype=np.int64)


def library_versions() -> dict[str, str]:
    import skops

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
    }
