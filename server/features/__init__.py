"""Features for scoring, derived from the graph schema and read from Neo4j.

`plan_features` (schema -> which features), `discover_categories` (data -> which values to
count), `extract_features` (batches of keys -> `scoring.FeatureMatrix`). The `scoring`
library never sees Neo4j; this package is where the two meet.
"""

from server.features.extract import (
    Extraction,
    discover_categories,
    extract_features,
    fetch_outcome,
    interaction_ages,
    profile_keys,
)
from server.features.plan import Feature, FeaturePlan, plan_features

__all__ = [
    "Extraction", "Feature", "FeaturePlan", "discover_categories", "extract_features",
    "fetch_outcome", "interaction_ages", "plan_features", "profile_keys",
]  # fmt: skip
