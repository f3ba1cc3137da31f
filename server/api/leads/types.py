"""GraphQL object types of lead scoring: models, versions, leads, breakdowns, history."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from server.access import Permission, mask_value
from server.access.masking import pii_columns
from server.api.common import Span, field, page_info
from server.api.context import Deps, Info
from server.api.leads import domain
from server.api.leads.prediction_types import LeadPrediction
from server.leads import schema_attributes as a
from server.leads.compile import Diagnostic
from server.leads.reads import LeadRow, encode_cursor
from server.leads.records import HistoryEntry, ScoreModelRecord, VersionRecord
from server.leads.spec import ModelState, RuleFrequency, VersionState


def model_gid(model_id: str) -> str:
    return str(relay.GlobalID("ScoreModel", model_id))


@strawberry.type(description="A problem of a model definition, with a precise code.")
class ScoreModelDiagnostic:
    code: str = strawberry.field(description="From the segment language or the scoring library.")
    field: list[str]
    message: str
    span: Span | None

    @staticmethod
    def of(d: Diagnostic) -> ScoreModelDiagnostic:
        span = Span(line=d.line, column=d.column) if d.line and d.column else None
        return ScoreModelDiagnostic(code=d.code, field=list(d.field), message=d.message, span=span)


@strawberry.type
class ScoreRule:
    condition: str
    points: float
    frequency: RuleFrequency
    cap: int | None
    label: str
    half_life_days: float | None


@strawberry.type
class ScoreGrade:
    name: str
    min: float | None
    max: float | None


@strawberry.type(description="One version of a model's definition.")
class ScoreModelVersion:
    version: int
    state: VersionState
    read_only: bool
    audience: str
    entity: str
    rules: list[ScoreRule]
    grades: list[ScoreGrade]
    sales_ready_threshold: float | None
    references: list[str] = strawberry.field(description="Segments its conditions read.")
    created_at: datetime
    created_by: str

    @staticmethod
    def of(v: VersionRecord) -> ScoreModelVersion:
        s = v.spec
        return ScoreModelVersion(
            version=v.version, state=v.state, read_only=v.state is not VersionState.DRAFT,
            audience=s.audience, entity=v.entity,
            rules=[ScoreRule(condition=r.condition, points=r.points, frequency=r.frequency,
                             cap=r.cap, label=r.label, half_life_days=r.half_life_days)
                   for r in s.rules],
            grades=[ScoreGrade(name=g.name, min=g.min_score, max=g.max_score) for g in s.grades],
            sales_ready_threshold=s.sales_ready_threshold, references=list(v.references),
            created_at=v.created_at, created_by=v.created_by,
        )  # fmt: skip


@strawberry.type(description="A points model that scores the profiles of one entity.")
class ScoreModel:
    record: strawberry.Private[ScoreModelRecord]
    id: strawberry.ID
    name: str
    description: str
    state: ModelState
    entity: str
    latest_version: int
    published_version: int | None
    schedule_cron: str
    last_run_at: datetime | None
    created_at: datetime
    created_by: str

    @staticmethod
    def of(m: ScoreModelRecord) -> ScoreModel:
        return ScoreModel(
            record=m, id=strawberry.ID(model_gid(m.id)), name=m.name, description=m.description,
            state=m.state, entity=m.entity, latest_version=m.latest_version,
            published_version=m.published_version, schedule_cron=m.schedule_cron,
            last_run_at=m.last_run_at, created_at=m.created_at, created_by=m.created_by,
        )  # fmt: skip

    @field("Versions, newest first.", requires=Permission.READ_SCORES)
    async def versions(self, info: Info) -> list[ScoreModelVersion]:
        found = await domain.versions(info.context.deps, self.record.id)
        return [ScoreModelVersion.of(v) for v in found]


@strawberry.type
class ScoreModelEdge:
    cursor: str
    node: ScoreModel


@strawberry.type
class ScoreModelConnection:
    edges: list[ScoreModelEdge]
    page_info: relay.PageInfo


def model_connection(
    found: list[ScoreModelRecord], first: int, after: str | None
) -> ScoreModelConnection:
    shown = found[:first]
    edges = [ScoreModelEdge(cursor=m.name, node=ScoreModel.of(m)) for m in shown]
    cursors = [e.cursor for e in edges]
    return ScoreModelConnection(
        edges=edges, page_info=page_info(cursors, len(found) > first, after)
    )


@strawberry.type(description="Points one rule gave the lead in the last run.")
class RulePoints:
    rule: int = strawberry.field(description="The rule's position in its version (0-based).")
    condition: str
    label: str
    points: float


@strawberry.type(description="A change of a lead's score (runs that changed nothing add none).")
class LeadScoreChange:
    at: datetime
    version: int
    score: float | None = strawberry.field(description="null: the profile left the audience.")
    grade: str | None
    sales_ready: bool

    @staticmethod
    def of(h: HistoryEntry) -> LeadScoreChange:
        return LeadScoreChange(at=h.at, version=h.version, score=h.score, grade=h.grade,
                               sales_ready=h.sales_ready)  # fmt: skip


@dataclass
class VersionCache:
    """The model versions one response's leads were scored with, each read once however many
    leads ask for their breakdown (a page is almost always one version)."""

    deps: Deps
    model_id: str
    found: dict[int, asyncio.Future[VersionRecord | None]] = dc_field(default_factory=dict)

    async def get(self, number: int) -> VersionRecord | None:
        if number not in self.found:
            self.found[number] = asyncio.ensure_future(
                domain.version(self.deps, self.model_id, number)
            )
        return await self.found[number]


@strawberry.type(description="A scored profile. PII properties are masked without READ_PII.")
class Lead:
    row: strawberry.Private[LeadRow]
    model_id: strawberry.Private[str]
    versions: strawberry.Private[VersionCache]
    key: str
    score: float
    grade: str | None
    sales_ready: bool
    sales_ready_at: datetime | None
    version: int = strawberry.field(description="The model version that scored it.")
    properties: JSON

    @staticmethod
    def of(row: LeadRow, versions: VersionCache, masked: frozenset[str]) -> Lead:
        shown = {k: mask_value(v) if k in masked else v for k, v in row.properties.items()}
        ready_at = row.sales_ready_at.to_native() if row.sales_ready_at is not None else None
        return Lead(
            row=row, model_id=versions.model_id, versions=versions, key=str(row.key),
            score=row.score, grade=row.grade, sales_ready=row.sales_ready,
            sales_ready_at=ready_at, version=row.version, properties=cast(JSON, shown),
        )  # fmt: skip

    @field("Which rules gave how many points.", requires=Permission.READ_SCORES)
    async def breakdown(self, info: Info) -> list[RulePoints]:
        version = await self.versions.get(self.row.version)
        rules = version.spec.rules if version else ()
        return [
            RulePoints(rule=i, condition=r.condition, label=r.label, points=p)
            for i, (r, p) in enumerate(zip(rules, self.row.rule_points, strict=False))
        ]

    @field(
        "The published predictive model's probability, score and top factors (null when no "
        "predictive model scored this profile).",
        requires=None,
    )
    async def prediction(self, info: Info) -> LeadPrediction | None:
        own = self.row.properties
        probability, score = own.get(a.LEAD_PROBABILITY), own.get(a.PREDICTED_SCORE)
        if probability is None or score is None:
            return None
        db = info.context.deps.db
        return await LeadPrediction.read(db, self.row, float(probability), int(score))

    @field("Score changes, newest first.", requires=Permission.READ_SCORES)
    async def history(self, info: Info, first: int = 20) -> list[LeadScoreChange]:
        found = await domain.history(info.context.deps, self.model_id, self.row, first)
        return [LeadScoreChange.of(h) for h in found]


@strawberry.type
class LeadEdge:
    cursor: str
    node: Lead


@strawberry.type
class LeadConnection:
    edges: list[LeadEdge]
    page_info: relay.PageInfo


def masked_properties(info: Info, entity: str, rows: list[LeadRow]) -> frozenset[str]:
    deps = info.context.deps
    if deps.principal.reads_pii:
        return frozenset()
    names: set[str] = {k for r in rows for k in r.properties}
    return pii_columns(deps.schema.require_entity(entity), names)


def lead_connection(
    info: Info, model: domain.Scored, rows: list[LeadRow], first: int, after: str | None
) -> LeadConnection:
    shown = rows[:first]
    masked = masked_properties(info, model.entity, shown)
    versions = VersionCache(info.context.deps, model.id)
    edges = [LeadEdge(cursor=encode_cursor(r.score, r.key), node=Lead.of(r, versions, masked))
             for r in shown]  # fmt: skip
    cursors = [e.cursor for e in edges]
    return LeadConnection(edges=edges, page_info=page_info(cursors, len(rows) > first, after))
