"""A model definition -> compiled rules and a `scoring.PointsModel`, or every problem found.

Each rule's condition compiles as `segment <audience entity> where <condition>` with the
segment compiler, the condition starting on line 2 so its diagnostics are mapped back to the
rule's own line:column. The audience is an entity name (all its profiles) or segment text.
Pure: no Neo4j; `now` fixes relative dates (a run compiles with its own time).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from grammar import CompiledSegment, SegmentError, compile_segment
from grammar.cypher.printer import CompiledCypher
from graph_schema import quote_identifier
from graph_schema.model import Entity, GraphSchema
from scoring import (
    Decay,
    Frequency,
    Grade,
    PointsModel,
    PointsRule,
    ScoringError,
    build_grade_scale,
    build_points_model,
)
from scoring.grades import GradeScale
from server.leads.count_form import print_match_ages, print_match_count
from server.leads.spec import MAX_RULES, ModelSpec, RuleFrequency, RuleSpec

Field = tuple[str, ...]
ENTITY_NAME = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*\s*$")
_FREQUENCY = {
    RuleFrequency.ONCE: Frequency.ONCE,
    RuleFrequency.PER_MATCH: Frequency.PER_INTERACTION,
    RuleFrequency.WHEN_NONE: Frequency.WHEN_NONE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """A problem of a model definition: a stable code (from the segment language, from
    `scoring`, or this module's), the input field it is about, and where in its text."""

    code: str
    field: Field
    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledRule:
    rule_id: str  # r0, r1, ... in model order
    spec: RuleSpec
    segment: CompiledSegment  # members form: profiles the condition holds for
    count: CompiledCypher | None  # PER_MATCH: key + matches
    ages: CompiledCypher | None = None  # with a half-life: key + ages of the matched records


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledModel:
    entity: Entity
    audience: CompiledSegment | None  # None: every profile of the entity
    rules: tuple[CompiledRule, ...]
    points: PointsModel
    referenced_segments: tuple[str, ...]


def rule_id(index: int) -> str:
    return f"r{index}"


def compile_model(
    spec: ModelSpec, schema: GraphSchema, *, now: dt.datetime | None = None, field: Field = ()
) -> tuple[CompiledModel | None, list[Diagnostic]]:
    """The compiled model, or None and every diagnostic (field paths start with `field`)."""
    entity, audience, problems = _audience(spec.audience, schema, now, (*field, "audience"))
    if len(spec.rules) > MAX_RULES:
        message = f"a model has at most {MAX_RULES} rules"
        problems.append(Diagnostic(code="LIMIT_EXCEEDED", field=(*field, "rules"), message=message))
    rules: list[CompiledRule] = []
    if entity is not None:
        tz = audience.timezone if audience else None
        for i, rule in enumerate(spec.rules):
            found, rule_problems = _rule(
                i, rule, entity, schema, now, tz, (*field, "rules", str(i))
            )
            problems += rule_problems
            rules += [found] if found else []
    points, scoring_problems = _points(spec, field)
    problems += scoring_problems
    if problems or entity is None or points is None:
        return None, problems
    refs = {n for r in rules for n in r.segment.referenced_segments}
    refs |= set(audience.referenced_segments if audience else ())
    return CompiledModel(entity=entity, audience=audience, rules=tuple(rules), points=points,
                         referenced_segments=tuple(sorted(refs))), []  # fmt: skip


def compile_audience(
    text: str, schema: GraphSchema, now: dt.datetime | None, field: Field
) -> tuple[Entity | None, CompiledSegment | None, list[Diagnostic]]:
    """An audience (entity name or segment text): its entity and, for segment text, the
    compiled segment; or diagnostics at `field`. Predictive models share it."""
    return _audience(text, schema, now, field)


def _audience(
    text: str, schema: GraphSchema, now: dt.datetime | None, field: Field
) -> tuple[Entity | None, CompiledSegment | None, list[Diagnostic]]:
    if ENTITY_NAME.match(text):
        entity = schema.entity(text.strip())
        if entity is None or not entity.profile:
            choices = ", ".join(e.name for e in schema.profiles)
            message = f"the audience is a profile entity ({choices}) or a segment"
            return None, None, [Diagnostic(code="UNKNOWN_AUDIENCE", field=field, message=message)]
        return entity, None, []
    try:
        compiled = compile_segment(text, schema, now=now)
    except SegmentError as exc:
        return None, None, [_diagnostic(exc, field, line_offset=0)]
    return schema.require_entity(compiled.audience), compiled, []


def _rule(
    index: int, rule: RuleSpec, entity: Entity, schema: GraphSchema,
    now: dt.datetime | None, timezone: str | None, field: Field,
) -> tuple[CompiledRule | None, list[Diagnostic]]:  # fmt: skip
    where = (*field, "condition")
    if not rule.condition.strip():
        return None, [Diagnostic(code="EMPTY_DEFINITION", field=where, message="it is empty")]
    text = f"segment {quote_identifier(entity.name)} where\n{rule.condition}"
    try:
        compiled = compile_segment(text, schema, now=now, timezone=timezone)
    except SegmentError as exc:
        return None, [_diagnostic(exc, where, line_offset=1)]
    count = ages = None
    if rule.half_life_days is not None and rule.frequency is not RuleFrequency.WHEN_NONE:
        ages = print_match_ages(compiled.bound, now or dt.datetime.now(dt.UTC))
        if ages is None:
            message = (
                "a half-life weighs dated records: make the rule one `any E (...)` or "
                "`count E (...)` condition on records with a date"
            )
            return None, [Diagnostic(code="RULE_NOT_DATED", field=where, message=message)]
    if rule.frequency is RuleFrequency.PER_MATCH:
        count = print_match_count(compiled.bound)
        if count is None:
            message = "a per-match rule is one `any E (...)` or `count E (...)` condition"
            return None, [Diagnostic(code="RULE_NOT_COUNTABLE", field=where, message=message)]
    compiled_rule = CompiledRule(
        rule_id=rule_id(index), spec=rule, segment=compiled, count=count, ages=ages
    )
    return compiled_rule, []


def _diagnostic(exc: SegmentError, field: Field, *, line_offset: int) -> Diagnostic:
    message = f"{exc.message} Did you mean `{exc.suggestion}`?" if exc.suggestion else exc.message
    span = exc.span
    if span is None:
        return Diagnostic(code=str(exc.code), field=field, message=message)
    line, column = span.line - line_offset, span.column
    if line < 1:  # reported on the prefix line: the condition is incomplete from its start
        line, column = 1, 1
    return Diagnostic(code=str(exc.code), field=field, message=message, line=line, column=column)


def _points(spec: ModelSpec, field: Field) -> tuple[PointsModel | None, list[Diagnostic]]:
    """Grades, points, caps and threshold through `scoring`, issues mapped to input fields."""
    problems: list[Diagnostic] = []
    scale: GradeScale | None = None
    if spec.grades:
        grades = [Grade(name=g.name, min_score=g.min_score, max_score=g.max_score)
                  for g in spec.grades]  # fmt: skip
        try:
            scale = build_grade_scale(grades)
        except ScoringError as exc:
            problems += [_grade_problem(spec, i.code, i.message, i.where, field)
                         for i in exc.issues]  # fmt: skip
    rules = [
        PointsRule(rule_id=rule_id(i), points=r.points, frequency=_FREQUENCY[r.frequency],
                   cap=r.cap, label=r.label, decay=Decay(half_life_days=r.half_life_days))
        for i, r in enumerate(spec.rules)
    ]  # fmt: skip
    try:
        model = build_points_model(
            rules, grades=scale, sales_ready_threshold=spec.sales_ready_threshold
        )
    except ScoringError as exc:
        problems += [_rule_problem(i.code, i.message, i.where, field) for i in exc.issues
                     if i.code != "TOO_MANY_RULES"]  # fmt: skip
        return None, problems
    return (None if problems else model), problems


def _grade_problem(
    spec: ModelSpec, code: str, message: str, where: str, field: Field
) -> Diagnostic:
    """`where` is a grade name, or `lower/upper` for a gap or overlap (the upper one's path)."""
    name = where.split("/")[-1]
    index = next((i for i, g in enumerate(spec.grades) if g.name == name), None)
    path = (*field, "grades") if index is None else (*field, "grades", str(index))
    return Diagnostic(code=str(code), field=path, message=f"{where}: {message}")


_RULE_FIELD = {"INVALID_POINTS": "points", "INVALID_CAP": "cap", "INVALID_DECAY": "halfLifeDays"}


def _rule_problem(code: str, message: str, where: str, field: Field) -> Diagnostic:
    code = str(code)
    if code == "INVALID_THRESHOLD":
        return Diagnostic(code=code, field=(*field, "salesReadyThreshold"), message=message)
    if code == "RULES_EMPTY":
        return Diagnostic(code=code, field=(*field, "rules"), message=message)
    path = (*field, "rules", where.removeprefix("r"))
    if code in _RULE_FIELD:
        path = (*path, _RULE_FIELD[code])
    return Diagnostic(code=code, field=path, message=message)
