"""Predictive lead models over GraphQL: marketers (MANAGE_SEGMENTS) create, redefine, train,
publish, unpublish and run them; sales and marketers (READ_SCORES) read models, versions and
metrics. Jobs run on the workers; the API only enqueues and reads."""

from __future__ import annotations

import uuid

import strawberry

from server.access import Permission
from server.api.common import decode_gid, field, mutation, user_errors
from server.api.context import Deps, Info
from server.api.errors import Problem, UserErrorCode
from server.api.leads.domain import to_problem
from server.api.leads.prediction_types import (
    LeadModel,
    LeadModelConnection,
    LeadModelJobPayload,
    LeadModelPayload,
    lead_model_connection,
)
from server.api.segments.validation import check_name, check_text
from server.predict import jobs, store
from server.predict.compile import compile_predict
from server.predict.spec import DEFAULT_MAX_HOPS, PredictSpec

Code = UserErrorCode
INPUT = ("input",)
DEFINITION = (*INPUT, "definition")


@strawberry.input(description="What to predict, for whom.")
class LeadModelDefinitionInput:
    audience: str = strawberry.field(
        description="A profile entity (`Lead`) or segment text (`segment Lead where source = "
        '"web"`): the profiles trained on and scored.'
    )
    outcome: str = strawberry.field(description="An attribute of the audience's entity.")
    outcome_value: str | None = strawberry.field(
        default=None,
        description="The value marking a positive (in the attribute's type); leave out for a "
        "boolean attribute, where true is positive. Other profiles are negatives.",
    )
    exclude: list[str] = strawberry.field(
        default_factory=list,
        description="Attributes recorded because of the outcome (`convertedAt`, `status`): "
        "never features, like the outcome itself.",
    )
    max_hops: int = strawberry.field(
        default=DEFAULT_MAX_HOPS, description="How far from the profile features reach (1-3)."
    )

    def to_spec(self) -> PredictSpec:
        return PredictSpec(audience=self.audience, outcome=self.outcome,
                           outcome_value=self.outcome_value, exclude=tuple(self.exclude),
                           max_hops=self.max_hops)  # fmt: skip


@strawberry.input
class CreateLeadModelInput:
    name: str
    description: str = ""
    definition: LeadModelDefinitionInput


@strawberry.input(description="A new definition applies from the next training.")
class UpdateLeadModelInput:
    id: strawberry.ID
    definition: LeadModelDefinitionInput


def _check(deps: Deps, spec: PredictSpec) -> tuple[tuple[str, str, tuple[str, ...]] | None,
                                                    list[Problem]]:  # fmt: skip
    compiled, diagnostics = compile_predict(spec, deps.schema, now=deps.clock(), field=DEFINITION)
    problems = [
        Problem(Code.INVALID_VALUE, d.field, d.message) if d.code == "INVALID_VALUE"
        else to_problem(d)
        for d in diagnostics
    ]  # fmt: skip
    if compiled is None:
        return None, problems
    return (compiled.entity.name, compiled.outcome.name, compiled.referenced_segments), problems


def _payload(model: store.LeadModelRecord | None, *problems: Problem) -> LeadModelPayload:
    return LeadModelPayload(lead_model=LeadModel.of(model) if model else None,
                            user_errors=user_errors(problems))  # fmt: skip


def _not_found(where: tuple[str, ...] = ("id",)) -> Problem:
    return Problem(Code.NOT_FOUND, where, "no such lead model")


def _job(outcome: tuple[str, bool] | None, *problems: Problem) -> LeadModelJobPayload:
    job_id, queued = outcome or (None, False)
    return LeadModelJobPayload(job_id=job_id, queued=queued, user_errors=user_errors(problems))


async def _model(deps: Deps, gid: strawberry.ID) -> store.LeadModelRecord | None:
    model_id = decode_gid(str(gid), "LeadModel")
    return await store.get_model(deps.db, model_id) if model_id else None


@strawberry.type
class LeadModelMutations:
    @mutation("Create a predictive model (not trained yet).")
    async def create_lead_model(self, info: Info, input: CreateLeadModelInput) -> LeadModelPayload:
        deps = info.context.deps
        spec = input.definition.to_spec()
        naming = [*check_name(input.name, (*INPUT, "name")),
                  *check_text(input.description, (*INPUT, "description"))]  # fmt: skip
        checked, problems = _check(deps, spec)
        if checked is None or naming:
            return _payload(None, *naming, *problems)
        entity, _, refs = checked
        try:
            made = await store.create_model(deps.db, str(uuid.uuid4()), input.name,
                                            input.description, spec, entity, refs, deps.actor,
                                            deps.clock())  # fmt: skip
        except store.NameTaken:
            taken = Problem(Code.NAME_TAKEN, (*INPUT, "name"), "another model has it")
            return _payload(None, taken)
        return _payload(made)

    @mutation("Change what a model predicts; trained versions keep what they learnt.")
    async def update_lead_model(self, info: Info, input: UpdateLeadModelInput) -> LeadModelPayload:
        deps = info.context.deps
        model = await _model(deps, input.id)
        if model is None:
            return _payload(None, _not_found((*INPUT, "id")))
        spec = input.definition.to_spec()
        checked, problems = _check(deps, spec)
        if checked is None:
            return _payload(None, *problems)
        entity, _, refs = checked
        if model.published_version is not None and entity != model.entity:
            message = f"the model scores {model.entity}; unpublish it to change the audience"
            return _payload(None, Problem(Code.AUDIENCE_MISMATCH, (*DEFINITION, "audience"),
                                          message))  # fmt: skip
        found = await store.update_spec(deps.db, model.id, spec, entity, refs, deps.clock())
        return _payload(found)

    @mutation("Train the next version on the workers (job id `train:{model}`).")
    async def train_lead_model(self, info: Info, id: strawberry.ID) -> LeadModelJobPayload:
        deps = info.context.deps
        model = await _model(deps, id)
        if model is None:
            return _job(None, _not_found())
        return _job(await jobs.request_training(deps.redis, model.id, deps.actor))

    @mutation("Score with this version from now on (default: the latest trained).")
    async def publish_lead_model(
        self, info: Info, id: strawberry.ID, version: int | None = None
    ) -> LeadModelPayload:
        deps = info.context.deps
        model = await _model(deps, id)
        if model is None:
            return _payload(None, _not_found())
        number = model.latest_version if version is None else version
        if await store.get_version(deps.db, model.id, number) is None:
            where = ("version",) if version is not None else ("id",)
            return _payload(None, Problem(Code.NOT_TRAINED, where, f"no trained version {number}"))
        try:
            published = await store.publish_version(deps.db, model.id, number, deps.clock())
        except store.EntityTaken as exc:
            message = f"lead model {exc.args[0]} already scores {model.entity}; unpublish it first"
            return _payload(None, Problem(Code.MODEL_CONFLICT, ("id",), message))
        return _payload(published)

    @mutation("Stop scoring with this model; predictions already written stay.")
    async def unpublish_lead_model(self, info: Info, id: strawberry.ID) -> LeadModelPayload:
        deps = info.context.deps
        model = await _model(deps, id)
        if model is None:
            return _payload(None, _not_found())
        if model.published_version is None:
            return _payload(None, Problem(Code.NOT_PUBLISHED, ("id",), "not published"))
        return _payload(await store.unpublish(deps.db, model.id, deps.clock()))

    @mutation("Score now with the published version (job id `predict:{model}:{version}`).")
    async def run_lead_model(self, info: Info, id: strawberry.ID) -> LeadModelJobPayload:
        deps = info.context.deps
        model = await _model(deps, id)
        if model is None:
            return _job(None, _not_found())
        requested = await jobs.request_scoring(deps.redis, model)
        if requested is None:
            return _job(None, Problem(Code.NOT_PUBLISHED, ("id",), "publish a version first"))
        return _job(requested)


@strawberry.type
class LeadModelQueries:
    @field("Predictive lead models by name.", requires=Permission.READ_SCORES)
    async def lead_models(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> LeadModelConnection:
        deps = info.context.deps
        size = min(max(first, 0), deps.max_page_size)
        return lead_model_connection(await store.list_models(deps.db, size, after), size, after)

    @field("One predictive lead model by global id.", requires=Permission.READ_SCORES)
    async def lead_model(self, info: Info, id: strawberry.ID) -> LeadModel | None:
        found = await _model(info.context.deps, id)
        return LeadModel.of(found) if found else None
