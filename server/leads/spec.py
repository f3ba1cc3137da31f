"""A points model's definition as plain values, and the JSON it is stored as."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

MAX_RULES = 40  # the reference product's limit of rule groups per model


class RuleFrequency(StrEnum):
    ONCE = "ONCE"  # the points if the condition holds
    PER_MATCH = "PER_MATCH"  # the points per related record the condition matches (capped)
    WHEN_NONE = "WHEN_NONE"  # the points if the condition does not hold


class ModelState(StrEnum):
    DRAFT = "DRAFT"  # never published
    PUBLISHED = "PUBLISHED"
    UNPUBLISHED = "UNPUBLISHED"


class VersionState(StrEnum):
    DRAFT = "DRAFT"  # editable
    PUBLISHED = "PUBLISHED"  # read-only, the one scoring runs use
    RETIRED = "RETIRED"  # read-only, replaced or unpublished


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSpec:
    condition: str  # a segment-language condition on the audience's profiles
    points: float
    frequency: RuleFrequency = RuleFrequency.ONCE
    cap: int | None = None  # PER_MATCH only
    label: str = ""
    # Each matching record weighs 0.5 ** (age / half-life): old engagement counts less.
    half_life_days: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeSpec:
    name: str
    min_score: float | None = None  # inclusive
    max_score: float | None = None  # exclusive


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    audience: str  # an entity name, or segment text: `segment Contact where ...`
    rules: tuple[RuleSpec, ...]
    grades: tuple[GradeSpec, ...] = ()
    sales_ready_threshold: float | None = None


def spec_to_json(spec: ModelSpec) -> str:
    data = {
        "audience": spec.audience,
        "rules": [
            {"condition": r.condition, "points": r.points, "frequency": r.frequency.value,
             "cap": r.cap, "label": r.label, "halfLifeDays": r.half_life_days}
            for r in spec.rules
        ],
        "grades": [
            {"name": g.name, "min": g.min_score, "max": g.max_score} for g in spec.grades
        ],
        "salesReadyThreshold": spec.sales_ready_threshold,
    }  # fmt: skip
    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def spec_from_json(text: str) -> ModelSpec:
    data: dict[str, Any] = json.loads(text)
    return ModelSpec(
        audience=data["audience"],
        rules=tuple(
            RuleSpec(condition=r["condition"], points=r["points"],
                     frequency=RuleFrequency(r["frequency"]), cap=r["cap"], label=r["label"],
                     half_life_days=r.get("halfLifeDays"))  # absent in earlier versions
            for r in data["rules"]
        ),
        grades=tuple(
            GradeSpec(name=g["name"], min_score=g["min"], max_score=g["max"])
            for g in data["grades"]
        ),
        sales_ready_threshold=data["salesReadyThreshold"],
    )  # fmt: skip
