"""Points-model arithmetic: rules with points, frequency options, decay, grades, sales-ready.

Which profiles a rule matches is decided elsewhere (the server evaluates each rule's
segment-language condition); this module receives, per profile and rule, the facts:

- `held`: the rule's condition holds for the profile;
- `ages_days`: for interaction rules, the age in days of each matching interaction.

Decay: only interactions inside the rule's window count, and with a half-life each one weighs
0.5 ** (age / half_life). Frequency:

- ONCE: the points if the condition holds; for an interaction rule, times the weight of the
  most recent interaction in the window (none in the window: nothing);
- PER_INTERACTION: the points for each interaction in the window, most recent first, at most
  `cap` of them, each times its weight;
- WHEN_NONE: the points if no interaction lies in the window (a penalty for silence, say).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from scoring.errors import ScoringError, ScoringErrorCode, ScoringIssue
from scoring.grades import GradeScale

Code = ScoringErrorCode
MAX_RULES = 200  # the reference product allows 40 rule groups; we allow more, but not unbounded


class Frequency(StrEnum):
    ONCE = "once"
    PER_INTERACTION = "per_interaction"
    WHEN_NONE = "when_none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Decay:
    window_days: float | None = None  # interactions older than this do not count
    half_life_days: float | None = None  # None: every interaction in the window weighs 1

    def weight(self, age_days: float) -> float:
        """0 outside the window, else the half-life weight (ages below 0 count as 0: clock skew)."""
        age = max(age_days, 0.0)
        if self.window_days is not None and age > self.window_days:
            return 0.0
        return 1.0 if self.half_life_days is None else 0.5 ** (age / self.half_life_days)


NO_DECAY = Decay()


@dataclass(frozen=True, slots=True, kw_only=True)
class PointsRule:
    rule_id: str
    points: float  # negative points lower the score
    frequency: Frequency = Frequency.ONCE
    cap: int | None = None  # PER_INTERACTION only: most interactions that score
    decay: Decay = NO_DECAY
    label: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleFacts:
    held: bool = False
    ages_days: tuple[float, ...] | None = None  # None: an attribute rule, no interactions


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule_id: str
    points: float
    interactions: int  # interactions that scored (0 for attribute rules)


@dataclass(frozen=True, slots=True)
class PointsScore:
    score: float
    grade: str | None
    sales_ready: bool
    breakdown: tuple[RuleResult, ...]  # one per rule, in model order


@dataclass(frozen=True, slots=True)
class PointsModel:
    """Validated rules, an optional grade scale and an optional sales-ready threshold."""

    rules: tuple[PointsRule, ...]
    grades: GradeScale | None = None
    sales_ready_threshold: float | None = None


def build_points_model(
    rules: Sequence[PointsRule],
    *,
    grades: GradeScale | None = None,
    sales_ready_threshold: float | None = None,
) -> PointsModel:
    """Validate rules and return the model.

    Raises ScoringError with every issue: RULES_EMPTY, TOO_MANY_RULES, RULE_ID_DUPLICATE,
    INVALID_POINTS, INVALID_CAP, INVALID_DECAY, INVALID_THRESHOLD.
    """
    issues = _rule_set_issues(rules) + [i for r in rules for i in _rule_issues(r)]
    if sales_ready_threshold is not None and not math.isfinite(sales_ready_threshold):
        issues.append(ScoringIssue(Code.INVALID_THRESHOLD, "the threshold must be a number"))
    if issues:
        raise ScoringError(tuple(issues))
    return PointsModel(tuple(rules), grades, sales_ready_threshold)


def _rule_set_issues(rules: Sequence[PointsRule]) -> list[ScoringIssue]:
    if not rules:
        return [ScoringIssue(Code.RULES_EMPTY, "a points model needs at least one rule")]
    issues = []
    if len(rules) > MAX_RULES:
        issues.append(ScoringIssue(Code.TOO_MANY_RULES, f"at most {MAX_RULES} rules"))
    seen: set[str] = set()
    for r in rules:
        if not r.rule_id or r.rule_id in seen:
            issues.append(ScoringIssue(Code.RULE_ID_DUPLICATE, "empty or duplicate id", r.rule_id))
        seen.add(r.rule_id)
    return issues


def _rule_issues(rule: PointsRule) -> list[ScoringIssue]:
    def issue(code: ScoringErrorCode, message: str) -> ScoringIssue:
        return ScoringIssue(code, message, rule.rule_id)

    issues = []
    if not math.isfinite(rule.points):
        issues.append(issue(Code.INVALID_POINTS, "points must be a finite number"))
    per_interaction = rule.frequency is Frequency.PER_INTERACTION
    if rule.cap is not None and (not per_interaction or rule.cap < 1):
        issues.append(issue(Code.INVALID_CAP, "a cap is a count >= 1, for per-interaction rules"))
    for value in (rule.decay.window_days, rule.decay.half_life_days):
        if value is not None and not (math.isfinite(value) and value > 0):
            issues.append(issue(Code.INVALID_DECAY, "windows and half-lives are days > 0"))
    if rule.frequency is Frequency.WHEN_NONE and rule.decay.half_life_days is not None:
        issues.append(issue(Code.INVALID_DECAY, "a half-life cannot weigh an absence"))
    return issues


def score_rule(rule: PointsRule, facts: RuleFacts) -> RuleResult:
    """The points one rule gives a profile with these facts."""
    weights = sorted(
        (w for w in (rule.decay.weight(a) for a in facts.ages_days or ()) if w > 0), reverse=True
    )
    match rule.frequency:
        case Frequency.ONCE:
            if not facts.held or (facts.ages_days is not None and not weights):
                return RuleResult(rule.rule_id, 0.0, 0)
            weight = weights[0] if facts.ages_days is not None else 1.0
            return RuleResult(rule.rule_id, rule.points * weight, min(len(weights), 1))
        case Frequency.PER_INTERACTION:
            counted = weights[: rule.cap] if rule.cap is not None else weights
            return RuleResult(rule.rule_id, rule.points * math.fsum(counted), len(counted))
        case Frequency.WHEN_NONE:
            return RuleResult(rule.rule_id, 0.0 if weights else rule.points, 0)


def score_profile(model: PointsModel, facts: Mapping[str, RuleFacts]) -> PointsScore:
    """Score one profile. A rule missing from `facts` neither holds nor has interactions.

    Raises ScoringError(UNKNOWN_RULE) for facts about a rule the model does not have, which
    signals a caller computing facts for another version of the model.
    """
    known = {r.rule_id for r in model.rules}
    unknown = sorted(set(facts) - known)
    if unknown:
        raise ScoringError.one(Code.UNKNOWN_RULE, "facts for unknown rules", ", ".join(unknown))
    breakdown = tuple(score_rule(r, facts.get(r.rule_id, _NOTHING)) for r in model.rules)
    score = math.fsum(r.points for r in breakdown)
    grade = model.grades.grade_for(score) if model.grades is not None else None
    threshold = model.sales_ready_threshold
    return PointsScore(score, grade, threshold is not None and score >= threshold, breakdown)


_NOTHING = RuleFacts()
