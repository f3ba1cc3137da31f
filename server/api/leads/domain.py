"""Score model and lead operations for the API: check inputs, call the leads store, reads and
jobs. Returns `Outcome`s for mutations; raises ApiError for bad cursors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import ApiError, ErrorCode, Problem, UserErrorCode
from server.api.segments.commands import Outcome
from server.api.segments.validation import check_name, check_text, convert_keys
from server.leads import jobs, reads, store
from server.leads.compile import Diagnostic, compile_model
from server.leads.records import HistoryEntry, ScoreModelRecord, VersionRecord
from server.leads.spec import ModelSpec, VersionState
from server.store.pages import InvalidCursor

Code = UserErrorCode
INPUT = ("input",)
_CODES = {"LIMIT_EXCEEDED": Code.LIMIT_EXCEEDED, "UNKNOWN_AUDIENCE": Code.UNKNOWN_AUDIENCE}
_SCORING = {"GRADES_EMPTY", "GRADE_NAME_INVALID", "GRADE_EMPTY_RANGE", "GRADE_GAP",
            "GRADE_OVERLAP", "GRADE_OPEN_END", "RULES_EMPTY", "INVALID_POINTS", "INVALID_CAP",
            "INVALID_THRESHOLD", "RULE_ID_DUPLICATE"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Checked:
    """A mutation's outcome with the model definition's diagnostics (precise codes)."""

    outcome: Outcome[ScoreModelRecord]
    diagnostics: tuple[Diagnostic, ...] = ()


def to_problem(d: Diagnostic) -> Problem:
    """Segment-language problems are DEFINITION_INVALID with their position; scoring ones
    (grades, points, caps) INVALID_VALUE; the diagnostic keeps the precise code."""
    code = _CODES.get(d.code) or (Code.INVALID_VALUE if d.code in _SCORING
                                  else Code.DEFINITION_INVALID)  # fmt: skip
    return Problem(code, d.field, f"{d.code}: {d.message}", d.line, d.column)


DEFINITION = (*INPUT, "definition")


def validate(deps: Deps, spec: ModelSpec, field: tuple[str, ...] = DEFINITION) -> list[Diagnostic]:
    return compile_model(spec, deps.schema, now=deps.clock(), field=field)[1]


def _failed(diagnostics: list[Diagnostic], *extra: Problem) -> Checked:
    problems = (*extra, *(to_problem(d) for d in diagnostics))
    return Checked(Outcome.fail(*problems), tuple(diagnostics))


def not_found(field: tuple[str, ...] = ("id",)) -> Problem:
    return Problem(Code.NOT_FOUND, field, "no such score model")


async def create_model(deps: Deps, name: str, description: str, spec: ModelSpec) -> Checked:
    naming = [
        *check_name(name, (*INPUT, "name")),
        *check_text(description, (*INPUT, "description")),
    ]
    compiled, diagnostics = compile_model(spec, deps.schema, now=deps.clock(), field=DEFINITION)
    if compiled is None or naming:
        return _failed(diagnostics, *naming)
    try:
        model = await store.create_model(
            deps.db, str(uuid.uuid4()), name, description, spec, compiled.entity.name,
            compiled.referenced_segments, deps.actor, deps.clock(),
        )  # fmt: skip
    except store.NameTaken:
        return _failed([], Problem(Code.NAME_TAKEN, (*INPUT, "name"), "another model has it"))
    return Checked(Outcome(model))


async def update_model(
    deps: Deps, model_id: str, name: str | None, description: str | None, spec: ModelSpec | None
) -> Checked:
    """A changed definition of a published model becomes a new DRAFT version."""
    naming = [*check_name(name, (*INPUT, "name"))] if name is not None else []
    naming += check_text(description, (*INPUT, "description")) if description else []
    change: tuple[ModelSpec, str, tuple[str, ...]] | None = None
    diagnostics: list[Diagnostic] = []
    if spec is not None:
        compiled, diagnostics = compile_model(spec, deps.schema, now=deps.clock(), field=DEFINITION)
        if compiled is not None:
            change = (spec, compiled.entity.name, compiled.referenced_segments)
    if naming or diagnostics:
        return _failed(diagnostics, *naming)
    try:
        found = await store.update_model(
            deps.db, model_id, name, description, change, deps.actor, deps.clock()
        )
    except store.NameTaken:
        return _failed([], Problem(Code.NAME_TAKEN, (*INPUT, "name"), "another model has it"))
    return Checked(Outcome(found) if found else Outcome.fail(not_found((*INPUT, "id"))))


async def publish_model(deps: Deps, model_id: str) -> Checked:
    """Publish the latest version after compiling it again (the schema may have changed)."""
    model = await store.get_model(deps.db, model_id)
    if model is None:
        return Checked(Outcome.fail(not_found()))
    latest = await store.get_version(deps.db, model_id, model.latest_version)
    assert latest is not None, "a model always has its latest version"
    diagnostics = validate(deps, latest.spec, ("id",))
    if diagnostics:
        return _failed(diagnostics)
    try:
        published = await store.publish_model(deps.db, model_id, deps.clock())
    except store.EntityTaken as exc:
        message = f"model {exc.args[0]} already scores {latest.entity}; unpublish it first"
        return _failed([], Problem(Code.MODEL_CONFLICT, ("id",), message))
    return Checked(Outcome(published) if published else Outcome.fail(not_found()))


async def unpublish_model(deps: Deps, model_id: str) -> Checked:
    model = await store.get_model(deps.db, model_id)
    if model is None:
        return Checked(Outcome.fail(not_found()))
    if model.published_version is None:
        return _failed([], Problem(Code.NOT_PUBLISHED, ("id",), "the model is not published"))
    found = await store.unpublish_model(deps.db, model_id, deps.clock())
    return Checked(Outcome(found))


async def run_model(deps: Deps, model_id: str) -> Outcome[tuple[str, bool]]:
    model = await store.get_model(deps.db, model_id)
    if model is None:
        return Outcome.fail(not_found())
    requested = await jobs.request_score_run(deps.redis, model)
    if requested is None:
        return Outcome.fail(Problem(Code.NOT_PUBLISHED, ("id",), "publish the model first"))
    return Outcome(requested)


async def get_model(deps: Deps, model_id: str) -> ScoreModelRecord | None:
    return await store.get_model(deps.db, model_id)


async def version(deps: Deps, model_id: str, number: int) -> VersionRecord | None:
    return await store.get_version(deps.db, model_id, number)


async def versions(deps: Deps, model_id: str) -> list[VersionRecord]:
    return await store.list_versions(deps.db, model_id)


async def list_models(deps: Deps, first: int, after: str | None) -> list[ScoreModelRecord]:
    return await store.list_models(deps.db, min(max(first, 0), deps.max_page_size), after)


@dataclass(frozen=True, slots=True)
class Scored:
    """The model a leads list or a lead is read under: a points model (ordered by
    `leadScore`) or a predictive lead model (by `predictedScore`)."""

    id: str
    entity: str
    scorer: reads.Scorer = reads.POINTS


async def leads(
    deps: Deps, model: Scored, grade: str | None, sales_ready: bool | None,
    first: int, after: str | None, *, owner: reads.Owner | None = None,
    audience: reads.Audience | None = None,
) -> list[reads.LeadRow]:  # fmt: skip
    entity = deps.schema.require_entity(model.entity)
    size = min(max(first, 0), deps.max_page_size)
    try:
        return await reads.leads_page(deps.db, entity, model.id, grade=grade,
                                      sales_ready=sales_ready, first=size, after=after,
                                      owner=owner, audience=audience,
                                      scorer=model.scorer)  # fmt: skip
    except InvalidCursor as exc:
        raise ApiError(ErrorCode.INVALID_CURSOR, str(exc)) from exc


async def lead(deps: Deps, model: Scored, profile: str) -> reads.LeadRow | None:
    entity = deps.schema.require_entity(model.entity)
    keys, problems = convert_keys(entity, [profile], ("profile",))
    if problems:
        raise ApiError(ErrorCode.BAD_USER_INPUT, problems[0].message)
    return await reads.lead(deps.db, entity, model.id, keys[0], model.scorer)


async def history(deps: Deps, model_id: str, row: reads.LeadRow, first: int) -> list[HistoryEntry]:
    size = min(max(first, 0), deps.max_page_size)
    return await reads.history(deps.db, model_id, row.key, size, row.recent_history)


def is_read_only(version: VersionRecord) -> bool:
    return version.state is not VersionState.DRAFT
