"""Grades (A, B, C, ...) by score ranges, validated continuous and non-overlapping.

Each grade covers the half-open range [min_score, max_score): a score on a boundary takes the
higher grade. The lowest grade may be open below (min_score None) and the highest open above
(max_score None); a score outside a closed scale has no grade.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.errors import ScoringError, ScoringErrorCode, ScoringIssue

Code = ScoringErrorCode


@dataclass(frozen=True, slots=True, kw_only=True)
class Grade:
    name: str
    min_score: float | None = None  # inclusive; None: no lower bound
    max_score: float | None = None  # exclusive; None: no upper bound

    @property
    def low(self) -> float:
        return -math.inf if self.min_score is None else self.min_score

    @property
    def high(self) -> float:
        return math.inf if self.max_score is None else self.max_score

    def contains(self, score: float) -> bool:
        return self.low <= score < self.high


@dataclass(frozen=True, slots=True)
class GradeScale:
    """Validated grades, ordered from the lowest range to the highest."""

    grades: tuple[Grade, ...]

    def grade_for(self, score: float) -> str | None:
        """The name of the grade whose range holds `score`, or None outside the scale."""
        return next((g.name for g in self.grades if g.contains(score)), None)


def build_grade_scale(grades: Sequence[Grade]) -> GradeScale:
    """Validate grades in any order and return them sorted by range.

    Raises ScoringError with every issue: GRADES_EMPTY, GRADE_NAME_INVALID, GRADE_EMPTY_RANGE,
    GRADE_OPEN_END, GRADE_GAP, GRADE_OVERLAP.
    """
    if not grades:
        raise ScoringError.one(Code.GRADES_EMPTY, "a grade scale needs at least one grade")
    issues = [*_name_issues(grades), *_range_issues(grades)]
    ordered = sorted(grades, key=lambda g: (g.low, g.high))
    if not issues:
        issues = _continuity_issues(ordered)
    if issues:
        raise ScoringError(tuple(issues))
    return GradeScale(tuple(ordered))


def _name_issues(grades: Sequence[Grade]) -> list[ScoringIssue]:
    issues, seen = [], set()
    for g in grades:
        folded = g.name.strip().casefold()
        if not folded or folded in seen:
            why = "duplicate grade name" if folded else "a grade needs a name"
            issues.append(ScoringIssue(Code.GRADE_NAME_INVALID, why, g.name))
        seen.add(folded)
    return issues


def _range_issues(grades: Sequence[Grade]) -> list[ScoringIssue]:
    issues = []
    for g in grades:
        bounds = [b for b in (g.min_score, g.max_score) if b is not None]
        if any(not math.isfinite(b) for b in bounds) or g.low >= g.high:
            message = f"empty or invalid range [{g.min_score}, {g.max_score})"
            issues.append(ScoringIssue(Code.GRADE_EMPTY_RANGE, message, g.name))
    return issues


def _continuity_issues(ordered: list[Grade]) -> list[ScoringIssue]:
    issues = []
    for lower, upper in itertools.pairwise(ordered):
        if lower.max_score is None or upper.min_score is None:
            message = "only the lowest grade may be open below and the highest open above"
            issues.append(ScoringIssue(Code.GRADE_OPEN_END, message, upper.name))
        elif lower.high < upper.low:
            message = f"scores in [{lower.high}, {upper.low}) have no grade"
            issues.append(ScoringIssue(Code.GRADE_GAP, message, f"{lower.name}/{upper.name}"))
        elif lower.high > upper.low:
            message = f"scores in [{upper.low}, {lower.high}) have two grades"
            issues.append(ScoringIssue(Code.GRADE_OVERLAP, message, f"{lower.name}/{upper.name}"))
    return issues
