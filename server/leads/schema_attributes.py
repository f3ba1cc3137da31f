"""The attributes a scoring run writes on profiles, made part of the graph schema so segments
can read them (`leadScore >= 60 and leadGrade = "A"`).

Every profile entity gains them when the API and the workers load the schema, whether a model
scores it yet or not: the schema stays a pure function of the schema file (no per-request
database read), and a profile never scored simply has no value (`is empty`). An attribute the
user's schema already declares under one of these names is kept as declared.
"""

from __future__ import annotations

from dataclasses import replace

from graph_schema.model import Attribute, AttrType, Entity, GraphSchema

LEAD_SCORE = "leadScore"
LEAD_GRADE = "leadGrade"
SALES_READY = "salesReady"
SALES_READY_AT = "salesReadyAt"
LEAD_PROBABILITY = "leadProbability"  # the published predictive model's calibrated probability
PREDICTED_SCORE = "predictedScore"  # the same as a 0-100 score
# Engine bookkeeping on scored profiles, not in the schema (names start with `_`).
RULE_POINTS = "_leadScoreRules"  # points per rule, in the model version's rule order
SCORED_BY = "_leadScoreModel"  # "{model id}:{version}"
# The features that moved the predicted score most, as one number list of four equal parts
# (`server.leads.packed.Factors`): the features' positions in the version's feature list
# (names and labels are read from the version), their score points, log-odds and the lead's
# values (NaN: missing). A list, not JSON: 1M rows of JSON took longer to print than the model
# took to score them; one list, not four: each property costs the write ~4 us a profile.
FACTOR_PACK = "_leadFactorPack"
# The same as four lists, as runs wrote them before the packed list: read when no packed list
# is there, removed when a run rewrites the profile.
FACTORS = "_leadFactors"
FACTOR_POINTS = "_leadFactorPoints"
FACTOR_LOG_ODDS = "_leadFactorLogOdds"
FACTOR_VALUES = "_leadFactorValues"
PREDICTED_BY = "_leadPredictedBy"  # "{lead model id}:{version}"
# The predicted score's recent history (`server.leads.packed.history_entry`), newest last
PREDICTED_HISTORY = "_leadPredictedHistory"

SCORE_ATTRIBUTES = (
    Attribute(name=LEAD_SCORE, type=AttrType.FLOAT, indexed=True,
              description="Points-model lead score (engine-owned)."),
    Attribute(name=LEAD_GRADE, type=AttrType.STRING, description="Lead grade (engine-owned)."),
    Attribute(name=SALES_READY, type=AttrType.BOOLEAN,
              description="At or above the model's sales-ready threshold (engine-owned)."),
    Attribute(name=SALES_READY_AT, type=AttrType.DATETIME,
              description="When the lead last became sales-ready (engine-owned)."),
    Attribute(name=LEAD_PROBABILITY, type=AttrType.FLOAT,
              description="Predictive model's probability of the outcome (engine-owned)."),
    Attribute(name=PREDICTED_SCORE, type=AttrType.INTEGER, indexed=True,
              description="Predictive model's 0-100 score (engine-owned)."),
)  # fmt: skip


def _with_scores(entity: Entity) -> Entity:
    if not entity.profile:
        return entity
    extra = tuple(a for a in SCORE_ATTRIBUTES if entity.attribute(a.name) is None)
    return replace(entity, attributes=entity.attributes + extra)


def with_score_attributes(schema: GraphSchema) -> GraphSchema:
    """`schema` with the score attributes on every profile entity."""
    return replace(schema, entities=tuple(_with_scores(e) for e in schema.entities))
