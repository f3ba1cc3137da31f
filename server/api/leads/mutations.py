"""Score model mutations for marketers (MANAGE_SEGMENTS): create, update, validate, publish,
unpublish, run."""

from __future__ import annotations

import strawberry

from server.api.common import UserError, decode_gid, mutation, user_errors
from server.api.context import Info
from server.api.leads import domain
from server.api.leads.inputs import (
    CreateScoreModelInput,
    ScoreModelDefinitionInput,
    UpdateScoreModelInput,
)
from server.api.leads.types import ScoreModel, ScoreModelDiagnostic
from server.api.segments.commands import Outcome


@strawberry.type
class ScoreModelPayload:
    score_model: ScoreModel | None
    user_errors: list[UserError]
    diagnostics: list[ScoreModelDiagnostic]

    @staticmethod
    def of(checked: domain.Checked) -> ScoreModelPayload:
        value = checked.outcome.value
        return ScoreModelPayload(
            score_model=ScoreModel.of(value) if value else None,
            user_errors=user_errors(checked.outcome.problems),
            diagnostics=[ScoreModelDiagnostic.of(d) for d in checked.diagnostics],
        )


@strawberry.type
class ValidateScoreModelPayload:
    valid: bool
    diagnostics: list[ScoreModelDiagnostic]


@strawberry.type
class RunScoreModelPayload:
    job_id: str | None
    queued: bool = strawberry.field(description="False when that run was already waiting.")
    user_errors: list[UserError]


def _missing(field: tuple[str, ...] = ("id",)) -> ScoreModelPayload:
    return ScoreModelPayload.of(domain.Checked(Outcome.fail(domain.not_found(field))))


@strawberry.type
class LeadMutations:
    @mutation("Create a points model (a DRAFT version 1).")
    async def create_score_model(
        self, info: Info, input: CreateScoreModelInput
    ) -> ScoreModelPayload:
        spec = input.definition.to_spec()
        checked = await domain.create_model(info.context.deps, input.name, input.description, spec)
        return ScoreModelPayload.of(checked)

    @mutation("Change a model; a new definition of a published model is a new DRAFT version.")
    async def update_score_model(
        self, info: Info, input: UpdateScoreModelInput
    ) -> ScoreModelPayload:
        model_id = decode_gid(str(input.id), "ScoreModel")
        if model_id is None:
            return _missing(("input", "id"))
        spec = input.definition.to_spec() if input.definition else None
        deps = info.context.deps
        return ScoreModelPayload.of(
            await domain.update_model(deps, model_id, input.name, input.description, spec)
        )

    @mutation("Compile a definition without saving it: the diagnostics a save would give.")
    async def validate_score_model(
        self, info: Info, definition: ScoreModelDefinitionInput
    ) -> ValidateScoreModelPayload:
        found = domain.validate(info.context.deps, definition.to_spec(), ("definition",))
        diagnostics = [ScoreModelDiagnostic.of(d) for d in found]
        return ValidateScoreModelPayload(valid=not found, diagnostics=diagnostics)

    @mutation("Publish the latest version (read-only from now on); scoring runs use it.")
    async def publish_score_model(self, info: Info, id: strawberry.ID) -> ScoreModelPayload:
        model_id = decode_gid(str(id), "ScoreModel")
        if model_id is None:
            return _missing()
        return ScoreModelPayload.of(await domain.publish_model(info.context.deps, model_id))

    @mutation("Stop scoring with this model; scores already written stay.")
    async def unpublish_score_model(self, info: Info, id: strawberry.ID) -> ScoreModelPayload:
        model_id = decode_gid(str(id), "ScoreModel")
        if model_id is None:
            return _missing()
        return ScoreModelPayload.of(await domain.unpublish_model(info.context.deps, model_id))

    @mutation("Score now on the workers (job id `score:{model}:{version}`).")
    async def run_score_model(self, info: Info, id: strawberry.ID) -> RunScoreModelPayload:
        model_id = decode_gid(str(id), "ScoreModel")
        if model_id is None:
            problems = user_errors([domain.not_found()])
            return RunScoreModelPayload(job_id=None, queued=False, user_errors=problems)
        outcome = await domain.run_model(info.context.deps, model_id)
        job_id, queued = outcome.value or (None, False)
        return RunScoreModelPayload(
            job_id=job_id, queued=queued, user_errors=user_errors(outcome.problems)
        )
