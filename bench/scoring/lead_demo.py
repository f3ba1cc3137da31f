"""The demo's lead-conversion recipe, shared by the integration test, the bench and the docs.

Predictive: schema-derived features of `Lead` (3 hops, so web sessions behind the online
account count) -> calibrated logistic model on `Lead.converted`. Points: the rules a marketer
would write from the reference texts (email opens and clicks, event attendance, web visits,
newsletter), fed with interaction ages read from the graph, scored on the same holdout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import neo4j
import numpy as np
import numpy.typing as npt

from graph_schema import GraphSchema, default_schema
from scoring import (
    Comparison,
    Decay,
    FeatureMatrix,
    Frequency,
    Grade,
    PointsModel,
    PointsRule,
    RuleFacts,
    TrainingConfig,
    TrainingResult,
    build_grade_scale,
    build_points_model,
    compare_scorers,
    score_profile,
    train_model,
)
from server.features import (
    FeaturePlan,
    discover_categories,
    extract_features,
    fetch_outcome,
    interaction_ages,
    plan_features,
    profile_keys,
)
from server.features.plan import Activity

Floats = npt.NDArray[np.float64]

PROFILE = "Lead"
OUTCOME = "converted"
LEAKS = ("converted", "convertedAt", "status")  # recorded because the lead converted
MAX_HOPS = 3
LEAD_ENTITIES = ("Customer", "OnlineAccount", "WebSession", "EmailEvent", "EventRegistration",
                 "Lead")  # fmt: skip


def lead_schema() -> GraphSchema:
    """The default schema cut to what lead scoring reads: a smaller import for tests, and a
    schema whose shape the feature planner has never been told about."""
    full = default_schema()
    entities = tuple(e for e in full.entities if e.name in LEAD_ENTITIES)
    relationships = tuple(
        r for r in full.relationships if r.source in LEAD_ENTITIES and r.target in LEAD_ENTITIES
    )
    return replace(full, entities=entities, relationships=relationships, name="leads")


def points_model() -> PointsModel:
    grades = build_grade_scale([
        Grade(name="A", min_score=40), Grade(name="B", min_score=25, max_score=40),
        Grade(name="C", min_score=10, max_score=25), Grade(name="D", max_score=10),
    ])  # fmt: skip
    every = Frequency.PER_INTERACTION
    return build_points_model([
        PointsRule(rule_id="email-click", points=5, frequency=every, cap=6,
                   decay=Decay(window_days=365, half_life_days=180)),
        PointsRule(rule_id="email-open", points=2, frequency=every, cap=10,
                   decay=Decay(window_days=90)),
        PointsRule(rule_id="event-attended", points=10, frequency=every, cap=2,
                   decay=Decay(window_days=365)),
        PointsRule(rule_id="web-visit", points=1, frequency=every, cap=10,
                   decay=Decay(window_days=90)),
        PointsRule(rule_id="newsletter", points=5),
        PointsRule(rule_id="silent-90d", points=-5, frequency=Frequency.WHEN_NONE,
                   decay=Decay(window_days=90)),
    ], grades=grades, sales_ready_threshold=40)  # fmt: skip


# rule id -> (activity entity, equality filters); "silent-90d" reads the opens
INTERACTIONS: dict[str, tuple[str, dict[str, object]]] = {
    "email-click": ("EmailEvent", {"type": "click"}),
    "email-open": ("EmailEvent", {"type": "open"}),
    "event-attended": ("EventRegistration", {"attended": True}),
    "web-visit": ("WebSession", {}),
    "silent-90d": ("EmailEvent", {"type": "open"}),
}


@dataclass(frozen=True, slots=True)
class LeadRun:
    plan: FeaturePlan
    matrix: FeatureMatrix
    outcome: Floats
    extraction_seconds: float
    result: TrainingResult
    comparison: Comparison


def plan_leads(driver: neo4j.Driver, schema: GraphSchema) -> FeaturePlan:
    categories = discover_categories(driver, schema, PROFILE, max_hops=MAX_HOPS)
    return plan_features(schema, PROFILE, exclude=LEAKS, categories=categories,
                         max_hops=MAX_HOPS)  # fmt: skip


def points_scores(
    driver: neo4j.Driver,
    schema: GraphSchema,
    plan: FeaturePlan,
    matrix: FeatureMatrix,
    now: dt.datetime,
) -> Floats:
    """The points model's score for every row of `matrix`."""
    model, keys = points_model(), list(matrix.keys)
    by_entity: dict[str, Activity] = {a.related.entity.name: a for a in plan.activities}
    ages = {
        rule: interaction_ages(driver, schema, by_entity[entity], keys, now=now, where=where)
        for rule, (entity, where) in INTERACTIONS.items()
    }
    newsletter = matrix.column("Customer.newsletter")
    scores = []
    for row, key in enumerate(keys):
        facts = {rule: RuleFacts(held=True, ages_days=found.get(key, ()))
                 for rule, found in ages.items()}  # fmt: skip
        facts["newsletter"] = RuleFacts(held=bool(newsletter[row] == 1))
        scores.append(score_profile(model, facts).score)
    return np.asarray(scores)


def run_leads(
    driver: neo4j.Driver,
    schema: GraphSchema,
    *,
    now: dt.datetime,
    keys: Sequence[str | int] | None = None,
    random_state: int = 0,
    workers: int = 1,
) -> LeadRun:
    """Extract, train, and compare with the points model on the holdout."""
    plan = plan_leads(driver, schema)
    keys = keys if keys is not None else profile_keys(driver, plan.profile)
    extraction = extract_features(driver, schema, plan, keys, now=now, workers=workers)
    outcome = np.nan_to_num(fetch_outcome(driver, plan.profile, OUTCOME, keys))
    result = train_model(extraction.matrix, outcome, outcome_name=f"{PROFILE}.{OUTCOME}",
                         config=TrainingConfig(random_state=random_state))  # fmt: skip
    points = points_scores(driver, schema, plan, result.holdout, now)
    comparison = compare_scorers(result.holdout_outcome, result.holdout_probabilities, points)
    return LeadRun(plan, extraction.matrix, outcome, extraction.seconds, result, comparison)
