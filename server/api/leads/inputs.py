"""Score model inputs and their conversion to plain definitions."""

from __future__ import annotations

import strawberry

from server.leads.spec import (
    GradeSpec,
    ModelSpec,
    ModelState,
    RuleFrequency,
    RuleSpec,
    VersionState,
)

strawberry.enum(
    RuleFrequency,
    description="ONCE: the points if the condition holds; PER_MATCH: the points per related "
    "record the condition matches, at most `cap`; WHEN_NONE: the points if it does not hold.",
)
strawberry.enum(ModelState, description="A score model's lifecycle.")
strawberry.enum(VersionState, description="DRAFT versions are editable; the others read-only.")


@strawberry.input(description="A rule: a segment-language condition on the audience's profiles.")
class ScoreRuleInput:
    condition: str
    points: float
    frequency: RuleFrequency = RuleFrequency.ONCE
    cap: int | None = None
    label: str = ""
    half_life_days: float | None = strawberry.field(
        default=None,
        description="Each matching record weighs 0.5 ** (age in days / half-life) (ONCE: the "
        "most recent one; PER_MATCH: each). The rule must match related records with a date.",
    )


@strawberry.input(description="A grade over the scores [min, max); open ends allowed at the ends.")
class ScoreGradeInput:
    name: str
    min: float | None = None
    max: float | None = None


@strawberry.input(description="A points model's definition.")
class ScoreModelDefinitionInput:
    audience: str = strawberry.field(
        description="A profile entity (`Contact`) or segment text "
        "(`segment Contact where jobTitle is not empty`): the profiles it scores."
    )
    rules: list[ScoreRuleInput]
    grades: list[ScoreGradeInput] = strawberry.field(default_factory=list)
    sales_ready_threshold: float | None = None

    def to_spec(self) -> ModelSpec:
        return ModelSpec(
            audience=self.audience,
            rules=tuple(
                RuleSpec(condition=r.condition, points=r.points, frequency=r.frequency,
                         cap=r.cap, label=r.label, half_life_days=r.half_life_days)
                for r in self.rules
            ),
            grades=tuple(GradeSpec(name=g.name, min_score=g.min, max_score=g.max)
                         for g in self.grades),
            sales_ready_threshold=self.sales_ready_threshold,
        )  # fmt: skip


@strawberry.input
class CreateScoreModelInput:
    name: str
    description: str = ""
    definition: ScoreModelDefinitionInput


@strawberry.input(
    description="Fields left out stay; a definition of a published model makes "
    "a new DRAFT version (published versions are read-only)."
)
class UpdateScoreModelInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    definition: ScoreModelDefinitionInput | None = None
