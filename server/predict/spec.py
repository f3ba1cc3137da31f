"""A predictive model's definition as plain values, and the JSON it is stored as."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_MAX_HOPS = 2
MAX_HOPS_LIMIT = 3  # a lead's customer's online account's sessions; more multiplies features


class LeadModelState(StrEnum):
    DRAFT = "DRAFT"  # no version published
    PUBLISHED = "PUBLISHED"  # scoring runs use `publishedVersion`
    UNPUBLISHED = "UNPUBLISHED"


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictSpec:
    audience: str  # an entity name, or segment text: the profiles trained on and scored
    outcome: str  # an attribute of the audience's entity
    # None: the outcome is a boolean attribute and true is positive; else the value (as text)
    # that marks a positive, compared in the attribute's type
    outcome_value: str | None = None
    # attributes of the profile recorded because of the outcome (`convertedAt`, `status`):
    # never features, as the outcome itself
    exclude: tuple[str, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS


def spec_to_json(spec: PredictSpec) -> str:
    return json.dumps({
        "audience": spec.audience, "outcome": spec.outcome, "outcomeValue": spec.outcome_value,
        "exclude": list(spec.exclude), "maxHops": spec.max_hops,
    }, sort_keys=True)  # fmt: skip


def spec_from_json(text: str) -> PredictSpec:
    data = json.loads(text)
    return PredictSpec(
        audience=data["audience"], outcome=data["outcome"], outcome_value=data["outcomeValue"],
        exclude=tuple(data["exclude"]), max_hops=int(data["maxHops"]),
    )  # fmt: skip
