"""Grade scales: continuous, non-overlapping ranges; a code per mistake; boundaries."""

from __future__ import annotations

import math

import pytest

from scoring import Grade, ScoringError, ScoringErrorCode, build_grade_scale

Code = ScoringErrorCode
ABCD = [
    Grade(name="B", min_score=50, max_score=75), Grade(name="A", min_score=75),
    Grade(name="D", max_score=25), Grade(name="C", min_score=25, max_score=50),
]  # fmt: skip


def test_grades_are_sorted_and_boundaries_take_the_higher_grade() -> None:
    scale = build_grade_scale(ABCD)
    assert [g.name for g in scale.grades] == ["D", "C", "B", "A"]
    cases = {-1e9: "D", 24.999: "D", 25: "C", 50: "B", 74.9: "B", 75: "A", 1e9: "A"}
    assert {s: scale.grade_for(s) for s in cases} == cases


def test_a_closed_scale_leaves_outside_scores_ungraded() -> None:
    scale = build_grade_scale([Grade(name="A", min_score=0, max_score=100)])
    assert (scale.grade_for(-1), scale.grade_for(0), scale.grade_for(100)) == (None, "A", None)


@pytest.mark.parametrize(
    ("grades", "code", "where"),
    [
        ([], Code.GRADES_EMPTY, ""),
        ([Grade(name="A", min_score=10), Grade(name="B", max_score=5)], Code.GRADE_GAP, "B/A"),
        ([Grade(name="A", min_score=5), Grade(name="B", max_score=10)], Code.GRADE_OVERLAP, "B/A"),
        ([Grade(name="A", min_score=10, max_score=10)], Code.GRADE_EMPTY_RANGE, "A"),
        ([Grade(name="A", min_score=20, max_score=10)], Code.GRADE_EMPTY_RANGE, "A"),
        ([Grade(name="A", min_score=math.nan)], Code.GRADE_EMPTY_RANGE, "A"),
        ([Grade(name="A"), Grade(name="B", min_score=0)], Code.GRADE_OPEN_END, "B"),
        ([Grade(name="A", min_score=0), Grade(name="a", max_score=0)],
         Code.GRADE_NAME_INVALID, "a"),
        ([Grade(name=" ", min_score=0)], Code.GRADE_NAME_INVALID, " "),
    ],
)  # fmt: skip
def test_invalid_scales_are_reported_with_codes(
    grades: list[Grade], code: Code, where: str
) -> None:
    with pytest.raises(ScoringError) as caught:
        build_grade_scale(grades)
    assert caught.value.code is code
    assert caught.value.issues[0].where == where


def test_gaps_and_overlaps_are_all_reported() -> None:
    grades = [
        Grade(name="D", max_score=10),
        Grade(name="C", min_score=20, max_score=30),
        Grade(name="B", min_score=25, max_score=40),
        Grade(name="A", min_score=40),
    ]
    with pytest.raises(ScoringError) as caught:
        build_grade_scale(grades)
    assert caught.value.codes == (Code.GRADE_GAP, Code.GRADE_OVERLAP)
