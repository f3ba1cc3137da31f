"""Points arithmetic: each frequency option, windows, half-life decay, caps, validation."""

from __future__ import annotations

import math

import pytest

from scoring import (
    Decay,
    Frequency,
    Grade,
    PointsRule,
    RuleFacts,
    ScoringError,
    ScoringErrorCode,
    build_grade_scale,
    build_points_model,
    score_profile,
)
from scoring.points import score_rule

Code = ScoringErrorCode
ONCE, EVERY, NONE = Frequency.ONCE, Frequency.PER_INTERACTION, Frequency.WHEN_NONE


def rule(points: float = 10, frequency: Frequency = ONCE, cap: int | None = None,
         window: float | None = None, half_life: float | None = None) -> PointsRule:  # fmt: skip
    decay = Decay(window_days=window, half_life_days=half_life)
    return PointsRule(rule_id="r", points=points, frequency=frequency, cap=cap, decay=decay)


def points(r: PointsRule, held: bool = True, ages: tuple[float, ...] | None = None) -> float:
    return score_rule(r, RuleFacts(held=held, ages_days=ages)).points


def test_once_attribute_rule_gives_points_when_held() -> None:
    assert points(rule(), held=True) == 10
    assert points(rule(), held=False) == 0
    assert points(rule(points=-7), held=True) == -7


def test_once_interaction_rule_needs_an_interaction_in_the_window() -> None:
    assert points(rule(window=30), ages=(40.0, 10.0)) == 10
    assert points(rule(window=30), ages=(40.0,)) == 0
    assert points(rule(window=30), ages=()) == 0
    assert points(rule(window=30), held=False, ages=(1.0,)) == 0


def test_once_with_half_life_weighs_the_most_recent_interaction() -> None:
    assert points(rule(half_life=10), ages=(20.0, 10.0)) == pytest.approx(5.0)


def test_per_interaction_counts_each_in_window_up_to_the_cap() -> None:
    ages = (1.0, 2.0, 3.0, 50.0)
    result = score_rule(rule(frequency=EVERY, window=30), RuleFacts(ages_days=ages))
    assert (result.points, result.interactions) == (30, 3)
    capped = score_rule(rule(frequency=EVERY, window=30, cap=2), RuleFacts(ages_days=ages))
    assert (capped.points, capped.interactions) == (20, 2)


def test_per_interaction_ignores_held_and_gives_nothing_without_interactions() -> None:
    assert points(rule(frequency=EVERY), held=False, ages=(1.0,)) == 10
    assert points(rule(frequency=EVERY), ages=()) == 0
    assert points(rule(frequency=EVERY), ages=None) == 0


def test_per_interaction_half_life_and_cap_keep_the_most_recent() -> None:
    assert points(rule(frequency=EVERY, half_life=10), ages=(0.0, 10.0)) == pytest.approx(15)
    r = rule(frequency=EVERY, half_life=10, cap=1)
    assert points(r, ages=(20.0, 0.0, 10.0)) == pytest.approx(10)
    assert points(rule(frequency=EVERY, half_life=10, window=15), ages=(10.0, 20.0)) == 5


def test_when_none_gives_points_only_without_interactions_in_the_window() -> None:
    r = rule(points=-5, frequency=NONE, window=90)
    assert points(r, ages=()) == -5
    assert points(r, ages=(100.0,)) == -5
    assert points(r, ages=(10.0,)) == 0


def test_future_ages_count_as_now() -> None:
    assert points(rule(frequency=EVERY, half_life=10, window=5), ages=(-2.0,)) == 10


def test_decay_weight_halves_every_half_life() -> None:
    decay = Decay(window_days=100, half_life_days=7)
    assert [decay.weight(a) for a in (0, 7, 14)] == pytest.approx([1, 0.5, 0.25])
    assert decay.weight(100.5) == 0


def test_score_profile_sums_rules_and_grades() -> None:
    scale = build_grade_scale([Grade(name="hot", min_score=20), Grade(name="cold", max_score=20)])
    model = build_points_model([
        PointsRule(rule_id="title", points=5),
        PointsRule(rule_id="opens", points=3, frequency=EVERY, cap=5,
                   decay=Decay(window_days=28)),
        PointsRule(rule_id="silent", points=-10, frequency=NONE, decay=Decay(window_days=28)),
    ], grades=scale, sales_ready_threshold=20)  # fmt: skip
    opens = RuleFacts(ages_days=(1, 2, 3, 4, 5, 6))
    hot = score_profile(model, {"title": RuleFacts(held=True), "opens": opens, "silent": opens})
    assert (hot.score, hot.grade, hot.sales_ready) == (20, "hot", True)
    assert [(r.rule_id, r.points) for r in hot.breakdown] == [
        ("title", 5), ("opens", 15), ("silent", 0)]  # fmt: skip
    assert math.fsum(r.points for r in hot.breakdown) == hot.score
    cold = score_profile(model, {})
    assert (cold.score, cold.grade, cold.sales_ready) == (-10, "cold", False)


def test_score_profile_rejects_facts_for_unknown_rules() -> None:
    model = build_points_model([PointsRule(rule_id="a", points=1)])
    with pytest.raises(ScoringError) as caught:
        score_profile(model, {"b": RuleFacts(held=True)})
    assert caught.value.code is Code.UNKNOWN_RULE
    assert caught.value.issues[0].where == "b"


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ([], Code.RULES_EMPTY),
        ([PointsRule(rule_id="a", points=1)] * 2, Code.RULE_ID_DUPLICATE),
        ([PointsRule(rule_id="", points=1)], Code.RULE_ID_DUPLICATE),
        ([PointsRule(rule_id="a", points=math.nan)], Code.INVALID_POINTS),
        ([PointsRule(rule_id="a", points=1, cap=3)], Code.INVALID_CAP),
        ([PointsRule(rule_id="a", points=1, frequency=EVERY, cap=0)], Code.INVALID_CAP),
        ([PointsRule(rule_id="a", points=1, decay=Decay(window_days=0))], Code.INVALID_DECAY),
        ([PointsRule(rule_id="a", points=1, decay=Decay(half_life_days=-1))], Code.INVALID_DECAY),
        ([PointsRule(rule_id="a", points=1, frequency=NONE, decay=Decay(half_life_days=3))],
         Code.INVALID_DECAY),
        ([PointsRule(rule_id=str(i), points=1) for i in range(201)], Code.TOO_MANY_RULES),
    ],
)  # fmt: skip
def test_invalid_rules_are_reported_with_codes(rules: list[PointsRule], code: Code) -> None:
    with pytest.raises(ScoringError) as caught:
        build_points_model(rules)
    assert caught.value.code is code


def test_every_issue_is_reported_at_once() -> None:
    rules = [PointsRule(rule_id="a", points=math.inf, cap=2), PointsRule(rule_id="a", points=1)]
    with pytest.raises(ScoringError) as caught:
        build_points_model(rules, sales_ready_threshold=math.nan)
    assert set(caught.value.codes) == {Code.RULE_ID_DUPLICATE, Code.INVALID_POINTS,
                                       Code.INVALID_CAP, Code.INVALID_THRESHOLD}  # fmt: skip
