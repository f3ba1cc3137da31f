"""A predictive model's definition checked against the graph schema: the audience (as points
models read it), the outcome attribute and the value marking a positive, the excluded
attributes. Every problem comes back at once, each at its input path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from grammar import CompiledSegment
from graph_schema.model import Attribute, AttrType, Entity, GraphSchema
from server.leads.compile import Diagnostic, Field, compile_audience
from server.predict.spec import MAX_HOPS_LIMIT, PredictSpec

OutcomeValue = bool | int | float | str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledPredict:
    entity: Entity
    audience: CompiledSegment | None  # None: every profile of the entity
    outcome: Attribute
    positive: OutcomeValue  # profiles whose outcome equals it are the positives
    exclude: tuple[str, ...]  # never features: the outcome and what the user named
    referenced_segments: tuple[str, ...]


def compile_predict(
    spec: PredictSpec, schema: GraphSchema, *, now: dt.datetime | None, field: Field = ()
) -> tuple[CompiledPredict | None, list[Diagnostic]]:
    entity, audience, problems = compile_audience(spec.audience, schema, now, (*field, "audience"))
    if entity is None:
        return None, problems
    outcome = entity.attribute(spec.outcome)
    positive: OutcomeValue | None = None
    if outcome is None or outcome.name == entity.key:
        problems.append(Diagnostic(
            code="UNKNOWN_ATTRIBUTE", field=(*field, "outcome"),
            message=f"{entity.name} has no attribute {spec.outcome!r} to learn",
        ))  # fmt: skip
    else:
        positive, problem = _positive(outcome, spec.outcome_value, (*field, "outcomeValue"))
        problems += [problem] if problem else []
    for i, name in enumerate(spec.exclude):
        if entity.attribute(name) is None:
            where = (*field, "exclude", str(i))
            message = f"{entity.name} has no attribute {name!r}"
            problems.append(Diagnostic(code="UNKNOWN_ATTRIBUTE", field=where, message=message))
    if not 1 <= spec.max_hops <= MAX_HOPS_LIMIT:
        problems.append(Diagnostic(code="INVALID_VALUE", field=(*field, "maxHops"),
                                   message=f"between 1 and {MAX_HOPS_LIMIT}"))  # fmt: skip
    if problems or outcome is None or positive is None:
        return None, problems
    excluded = (outcome.name, *spec.exclude)
    refs = tuple(sorted(audience.referenced_segments)) if audience else ()
    return CompiledPredict(entity=entity, audience=audience, outcome=outcome, positive=positive,
                           exclude=tuple(dict.fromkeys(excluded)),
                           referenced_segments=refs), []  # fmt: skip


def _positive(
    attr: Attribute, text: str | None, field: Field
) -> tuple[OutcomeValue | None, Diagnostic | None]:
    """The outcome value in the attribute's type: true for a boolean without a value."""

    def bad(message: str) -> tuple[None, Diagnostic]:
        return None, Diagnostic(code="INVALID_OUTCOME", field=field, message=message)

    if text is None:
        if attr.type is AttrType.BOOLEAN:
            return True, None
        return bad(f"{attr.name} is {attr.type}: name the value that marks a positive")
    if attr.type is AttrType.BOOLEAN:
        if text.strip().lower() not in ("true", "false"):
            return bad(f"{attr.name} is boolean: true or false")
        return text.strip().lower() == "true", None
    if attr.type.is_numeric:
        try:
            number = float(text)
        except ValueError:
            return bad(f"{attr.name} is {attr.type}: {text!r} is not a number")
        return (int(number) if attr.type is AttrType.INTEGER else number), None
    if attr.type is AttrType.STRING:
        return text, None
    return bad(f"{attr.name} is {attr.type}: an outcome is boolean, a number or a string")
