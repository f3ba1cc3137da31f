"""Lead scoring queries for sales: models, leads by score, one lead."""

from __future__ import annotations

from typing import Annotated

import strawberry

from server.access import Permission
from server.api.common import decode_gid, field
from server.api.context import Info
from server.api.errors import ApiError, ErrorCode
from server.api.leads import domain
from server.api.leads.filters import DEFAULT_OWNER_FIELD, resolve_audience, resolve_owner
from server.api.leads.types import (
    Lead,
    LeadConnection,
    ScoreModel,
    ScoreModelConnection,
    VersionCache,
    lead_connection,
    masked_properties,
    model_connection,
)
from server.leads.reads import PREDICTIVE
from server.predict import store as lead_models

DEFAULT_PAGE = 50
OWNER = "Only leads whose `ownerField` equals this value."
OWNER_FIELD = (
    "Where the owner is: an attribute of the lead (`owner`) or of the entity one to-one step "
    "away (`Account.ownerId`)."
)
AUDIENCE = "Only current members of this segment (a segment of the model's entity)."


async def _model(info: Info, model: strawberry.ID) -> domain.Scored:
    """A points model's or a lead model's global id. Raises ApiError(BAD_USER_INPUT) for an
    id that names neither."""
    deps = info.context.deps
    points_id, lead_id = decode_gid(str(model), "ScoreModel"), decode_gid(str(model), "LeadModel")
    found = await domain.get_model(deps, points_id) if points_id else None
    if found is not None:
        return domain.Scored(found.id, found.entity)
    predictive = await lead_models.get_model(deps.db, lead_id) if lead_id else None
    if predictive is not None:
        return domain.Scored(predictive.id, predictive.entity, PREDICTIVE)
    raise ApiError(ErrorCode.BAD_USER_INPUT, "no such score model or lead model")


@strawberry.type
class LeadQueries:
    @field("Score models by name.", requires=Permission.READ_SCORES)
    async def score_models(
        self, info: Info, first: int = DEFAULT_PAGE, after: str | None = None
    ) -> ScoreModelConnection:
        found = await domain.list_models(info.context.deps, first, after)
        return model_connection(found, min(first, info.context.deps.max_page_size), after)

    @field("One score model by global id.", requires=Permission.READ_SCORES)
    async def score_model(self, info: Info, id: strawberry.ID) -> ScoreModel | None:
        model_id = decode_gid(str(id), "ScoreModel")
        found = await domain.get_model(info.context.deps, model_id) if model_id else None
        return ScoreModel.of(found) if found else None

    @field(
        "Leads a model scored, best score first (ties by key); filter by grade, sales-ready, "
        "owner and audience. `model` is a points model (ordered by leadScore) or a lead model "
        "(by predictedScore; grade and sales-ready are then the points model's, and there is no "
        "rule breakdown). PII properties are masked unless "
        "the caller holds READ_PII.",
        requires=Permission.READ_SCORES,
    )
    async def leads(
        self,
        info: Info,
        model: strawberry.ID,
        grade: str | None = None,
        sales_ready: bool | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
        owner: Annotated[str | None, strawberry.argument(description=OWNER)] = None,
        owner_field: Annotated[str, strawberry.argument(description=OWNER_FIELD)] = (
            DEFAULT_OWNER_FIELD
        ),
        audience: Annotated[strawberry.ID | None, strawberry.argument(description=AUDIENCE)] = None,
    ) -> LeadConnection:
        found = await _model(info, model)
        deps = info.context.deps
        entity = deps.schema.require_entity(found.entity)
        who = None if owner is None else resolve_owner(deps, entity, owner_field, owner)
        members = None if audience is None else await resolve_audience(deps, entity, str(audience))
        rows = await domain.leads(deps, found, grade, sales_ready, first, after, owner=who,
                                  audience=members)  # fmt: skip
        size = min(max(first, 0), info.context.deps.max_page_size)
        return lead_connection(info, found, rows, size, after)

    @field(
        "One profile's score under a points model or a lead model (null if it has none).",
        requires=Permission.READ_SCORES,
    )
    async def lead(self, info: Info, model: strawberry.ID, profile: str) -> Lead | None:
        found = await _model(info, model)
        row = await domain.lead(info.context.deps, found, profile)
        if row is None:
            return None
        versions = VersionCache(info.context.deps, found.id)
        return Lead.of(row, versions, masked_properties(info, found.entity, [row]))
