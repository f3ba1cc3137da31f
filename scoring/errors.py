"""Scoring errors: one exception carrying every problem found, each with a stable code.

Codes are API (clients and tests match them, never message text); `where` names the rule,
grade or feature the issue is about.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScoringErrorCode(StrEnum):
    GRADES_EMPTY = "GRADES_EMPTY"
    GRADE_NAME_INVALID = "GRADE_NAME_INVALID"  # empty or duplicated
    GRADE_EMPTY_RANGE = "GRADE_EMPTY_RANGE"  # min >= max
    GRADE_GAP = "GRADE_GAP"  # a score between two grades would have none
    GRADE_OVERLAP = "GRADE_OVERLAP"  # a score would have two grades
    GRADE_OPEN_END = "GRADE_OPEN_END"  # an unbounded end in the middle of the scale
    RULES_EMPTY = "RULES_EMPTY"
    TOO_MANY_RULES = "TOO_MANY_RULES"
    RULE_ID_DUPLICATE = "RULE_ID_DUPLICATE"
    INVALID_POINTS = "INVALID_POINTS"  # not a finite number
    INVALID_CAP = "INVALID_CAP"  # cap < 1, or a cap on a rule that is not per interaction
    INVALID_DECAY = "INVALID_DECAY"  # window or half-life <= 0, half-life on "when none"
    INVALID_THRESHOLD = "INVALID_THRESHOLD"
    UNKNOWN_RULE = "UNKNOWN_RULE"  # facts given for a rule the model does not have
    INVALID_TRAINING_DATA = "INVALID_TRAINING_DATA"  # shapes, one class only, NaN labels
    FEATURE_MISMATCH = "FEATURE_MISMATCH"  # scoring rows with other features than trained on
    INVALID_ARTIFACT = "INVALID_ARTIFACT"  # unreadable model file or metadata


@dataclass(frozen=True, slots=True)
class ScoringIssue:
    code: ScoringErrorCode
    message: str
    where: str = ""  # rule id, grade name or feature name

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}{self.code}: {self.message}"


class ScoringError(Exception):
    """Raised with every issue found; `code` is the first one's."""

    def __init__(self, issues: tuple[ScoringIssue, ...]) -> None:
        assert issues, "a ScoringError carries at least one issue"
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))

    @classmethod
    def one(cls, code: ScoringErrorCode, message: str, where: str = "") -> ScoringError:
        return cls((ScoringIssue(code, message, where),))

    @property
    def code(self) -> ScoringErrorCode:
        return self.issues[0].code

    @property
    def codes(self) -> tuple[ScoringErrorCode, ...]:
        return tuple(i.code for i in self.issues)
