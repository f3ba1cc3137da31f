"""Lead scoring as a plain library: facts or feature rows in, scores out. Knows no Neo4j.

- points models: `build_points_model` + `score_profile` (rules, frequency, decay), grades
  (`build_grade_scale`), sales-ready transitions (`update_sales_ready`);
- predictive models: `train_model` on a `FeatureMatrix` -> calibrated probabilities
  (`predict_probabilities`, `to_scores`), holdout metrics and comparisons, per-row
  explanations (`explain_rows`), skops artifacts (`save_model`, `load_model`, `MODELS`).
"""

from scoring.artifact import (
    MODELS,
    ModelCache,
    load_model,
    model_from_bytes,
    model_to_bytes,
    save_model,
)
from scoring.errors import ScoringError, ScoringErrorCode, ScoringIssue
from scoring.explain import Contribution, RowExplanation, explain_rows, feature_influence
from scoring.grades import Grade, GradeScale, build_grade_scale
from scoring.matrix import FeatureMatrix, build_matrix, data_hash
from scoring.metrics import (
    Comparison,
    HoldoutMetrics,
    compare_scorers,
    holdout_metrics,
    precision_at_top,
)
from scoring.model import (
    ModelMetadata,
    TrainedModel,
    TrainingConfig,
    TrainingResult,
    predict_probabilities,
    to_scores,
    train_model,
)
from scoring.points import (
    Decay,
    Frequency,
    PointsModel,
    PointsRule,
    PointsScore,
    RuleFacts,
    build_points_model,
    score_profile,
)
from scoring.sales_ready import SalesReadyState, transitioned, update_sales_ready

__all__ = [
    "MODELS", "Comparison", "Contribution", "Decay", "FeatureMatrix", "Frequency", "Grade",
    "GradeScale", "HoldoutMetrics", "ModelCache", "ModelMetadata", "PointsModel", "PointsRule",
    "PointsScore", "RowExplanation", "RuleFacts", "SalesReadyState", "ScoringError",
    "ScoringErrorCode", "ScoringIssue", "TrainedModel", "TrainingConfig", "TrainingResult",
    "build_grade_scale", "build_matrix", "build_points_model", "compare_scorers", "data_hash",
    "explain_rows", "feature_influence", "holdout_metrics", "load_model", "model_from_bytes",
    "model_to_bytes", "precision_at_top", "predict_probabilities", "save_model", "score_profile",
    "to_scores", "train_model", "transitioned", "update_sales_ready",
]  # fmt: skip
