"""Model definitions -> diagnostics (offline): each code at its input path and position."""

from __future__ import annotations

from dataclasses import replace

import pytest

from server.leads.compile import compile_model
from server.leads.spec import GradeSpec, ModelSpec, RuleFrequency, RuleSpec
from tests.leads.test_run import SCHEMA, SPEC

Found = list[tuple[str, tuple[str, ...], int | None, int | None]]


def problems(spec: ModelSpec) -> Found:
    compiled, found = compile_model(spec, SCHEMA, field=("definition",))
    assert compiled is None
    return [(d.code, d.field, d.line, d.column) for d in found]


def grades(*bounds: tuple[str, float | None, float | None]) -> ModelSpec:
    return replace(SPEC, grades=tuple(GradeSpec(name=n, min_score=lo, max_score=hi)
                                      for n, lo, hi in bounds))  # fmt: skip


def rule(condition: str, **extra: object) -> ModelSpec:
    return replace(SPEC, rules=(RuleSpec(condition=condition, points=1, **extra),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (grades(("A", 10, None), ("B", None, 5)),
         [("GRADE_GAP", ("definition", "grades", "0"), None, None)]),
        (grades(("A", 10, None), ("B", 0, 12)),
         [("GRADE_OVERLAP", ("definition", "grades", "0"), None, None)]),
        (grades(("A", 10, None), ("B", 5, None)),
         [("GRADE_OPEN_END", ("definition", "grades", "0"), None, None)]),
        (grades(("A", 10, 5)), [("GRADE_EMPTY_RANGE", ("definition", "grades", "0"), None, None)]),
        (grades(("A", 10, None), ("a", None, 10)),
         [("GRADE_NAME_INVALID", ("definition", "grades", "1"), None, None)]),
        (rule("city = 3"),
         [("TYPE_MISMATCH", ("definition", "rules", "0", "condition"), 1, 8)]),
        (rule('city = "x" and\n   any Order (totl > 3)'),
         [("UNKNOWN_ATTRIBUTE", ("definition", "rules", "0", "condition"), 2, 15)]),
        (rule("city ="), [("SYNTAX_UNEXPECTED_END", ("definition", "rules", "0", "condition"),
                           1, 7)]),
        (rule("   "), [("EMPTY_DEFINITION", ("definition", "rules", "0", "condition"), None,
                        None)]),
        (rule('city = "x"', frequency=RuleFrequency.PER_MATCH),
         [("RULE_NOT_COUNTABLE", ("definition", "rules", "0", "condition"), None, None)]),
        (rule("any EmailEvent", frequency=RuleFrequency.ONCE, cap=3),
         [("INVALID_CAP", ("definition", "rules", "0", "cap"), None, None)]),
        (replace(SPEC, rules=()),
         [("RULES_EMPTY", ("definition", "rules"), None, None)]),
        (replace(SPEC, rules=SPEC.rules * 11),
         [("LIMIT_EXCEEDED", ("definition", "rules"), None, None)]),
        (replace(SPEC, audience="Order"),
         [("UNKNOWN_AUDIENCE", ("definition", "audience"), None, None)]),
        (replace(SPEC, audience="segment Customer where cty = 1"),
         [("UNKNOWN_ATTRIBUTE", ("definition", "audience"), 1, 24)]),
        (replace(SPEC, sales_ready_threshold=float("nan")),
         [("INVALID_THRESHOLD", ("definition", "salesReadyThreshold"), None, None)]),
    ],
)  # fmt: skip
def test_each_problem_has_its_code_path_and_position(spec: ModelSpec, expected: Found) -> None:
    assert problems(spec) == expected


def test_a_valid_model_compiles_with_its_references_and_count_forms() -> None:
    spec = replace(SPEC, rules=(*SPEC.rules, RuleSpec(condition="in segment vip", points=2)))
    compiled, found = compile_model(spec, SCHEMA)
    assert found == []
    assert compiled is not None
    assert compiled.referenced_segments == ("vip",)
    assert [r.count is not None for r in compiled.rules] == [False, True, False, True, False]
    assert [r.rule_id for r in compiled.rules] == ["r0", "r1", "r2", "r3", "r4"]
