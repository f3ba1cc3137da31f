"""GraphQL types of predictive lead models: models, trained versions with their holdout
metrics (and the points model's on the same holdout), training progress, and a lead's
prediction with its top factors."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any, cast

import strawberry
from redis.asyncio import Redis
from strawberry import relay
from strawberry.scalars import JSON

from server.api.common import UserError, field, page_info
from server.api.context import Info
from server.leads.reads import LeadRow
from server.predict import jobs, store
from server.predict.spec import LeadModelState
from server.predict.store import LeadModelRecord, LeadVersionRecord
from server.store.db import Db

strawberry.enum(LeadModelState, description="A predictive model's lifecycle.")

POLL_S = 1.0


def lead_model_gid(model_id: str) -> str:
    return str(relay.GlobalID("LeadModel", model_id))


def _number(value: Any) -> float | None:
    """JSON numbers as GraphQL floats: NaN (an empty calibration bin) is null."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@strawberry.type(description="Probabilities in [low, high): how many, predicted vs observed.")
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_predicted: float | None
    observed_rate: float | None


@strawberry.type(description="Holdout metrics of one scorer (25% of the audience, stratified).")
class HoldoutMetrics:
    rows: int
    positives: int
    base_rate: float
    roc_auc: float
    precision_at_10: float = strawberry.field(description="Positives among the top 10% scores.")
    precision_at_20: float = strawberry.field(description="Positives among the top 20% scores.")
    brier: float | None = strawberry.field(description="Mean squared error of probabilities.")
    calibration: list[CalibrationBin]

    @staticmethod
    def of(m: dict[str, Any]) -> HoldoutMetrics:
        bins = [CalibrationBin(low=b["low"], high=b["high"], count=b["count"],
                               mean_predicted=_number(b["mean_predicted"]),
                               observed_rate=_number(b["observed_rate"]))
                for b in m.get("reliability") or ()]  # fmt: skip
        return HoldoutMetrics(
            rows=m["rows"], positives=m["positives"], base_rate=m["base_rate"],
            roc_auc=m["roc_auc"], precision_at_10=m["precision_at_10"],
            precision_at_20=m["precision_at_20"], brier=_number(m.get("brier")),
            calibration=bins,
        )  # fmt: skip


@strawberry.type(description="The published points model of the same entity, same holdout.")
class PointsComparison:
    score_model: strawberry.ID
    name: str
    version: int
    metrics: HoldoutMetrics


@strawberry.type(description="One trained version: what it learnt from and how well it ranks.")
class LeadModelVersion:
    version: int
    trained_at: datetime
    trained_by: str
    outcome: str
    data_hash: str = strawberry.field(description="SHA-256 of the training data and outcomes.")
    features: list[str]
    training_rows: int
    training_positives: int
    library_versions: JSON
    artifact_bytes: int = strawberry.field(description="Size of the stored skops artifact.")
    metrics: HoldoutMetrics
    points_model: PointsComparison | None = strawberry.field(
        description="null when no points model is published for the entity."
    )

    @staticmethod
    def of(v: LeadVersionRecord) -> LeadModelVersion:
        m, points = v.metadata, v.points
        compared = None if points is None else PointsComparison(
            score_model=strawberry.ID(str(relay.GlobalID("ScoreModel", points["modelId"]))),
            name=points["name"], version=points["version"],
            metrics=HoldoutMetrics.of(points["metrics"]),
        )  # fmt: skip
        return LeadModelVersion(
            version=v.version, trained_at=v.trained_at, trained_by=v.trained_by,
            outcome=m["outcome"], data_hash=v.data_hash, features=list(m["feature_names"]),
            training_rows=m["training_rows"], training_positives=m["training_positives"],
            library_versions=cast(JSON, m["versions"]), artifact_bytes=v.artifact_bytes,
            metrics=HoldoutMetrics.of(m["metrics"]), points_model=compared,
        )  # fmt: skip


@strawberry.type(description="The latest training or scoring run's progress (kept 1 day).")
class LeadModelProgress:
    phase: str = strawberry.field(
        description="READING, EXTRACTING, TRAINING, COMPARING, SAVING, PREDICTING, WRITING, "
        "DONE or FAILED."
    )
    percent: int
    seconds: float
    version: int | None
    error: str | None

    @staticmethod
    def of(p: dict[str, Any] | None) -> LeadModelProgress | None:
        if p is None:
            return None
        return LeadModelProgress(phase=p["phase"], percent=p["percent"], seconds=p["seconds"],
                                 version=p.get("version"), error=p.get("error"))  # fmt: skip


@strawberry.type(description="A predictive model of an outcome over an audience's profiles.")
class LeadModel:
    record: strawberry.Private[LeadModelRecord]
    id: strawberry.ID
    name: str
    description: str
    state: LeadModelState
    entity: str
    audience: str
    outcome: str
    outcome_value: str | None
    exclude: list[str]
    max_hops: int
    latest_version: int = strawberry.field(description="0 before the first training.")
    published_version: int | None
    schedule_cron: str
    last_trained_at: datetime | None
    last_run_at: datetime | None
    created_at: datetime
    created_by: str

    @staticmethod
    def of(m: LeadModelRecord) -> LeadModel:
        s = m.spec
        return LeadModel(
            record=m, id=strawberry.ID(lead_model_gid(m.id)), name=m.name,
            description=m.description, state=m.state, entity=m.entity, audience=s.audience,
            outcome=s.outcome, outcome_value=s.outcome_value, exclude=list(s.exclude),
            max_hops=s.max_hops, latest_version=m.latest_version,
            published_version=m.published_version, schedule_cron=m.schedule_cron,
            last_trained_at=m.last_trained_at, last_run_at=m.last_run_at,
            created_at=m.created_at, created_by=m.created_by,
        )  # fmt: skip

    @field("Trained versions, newest first, with their metrics.", requires=None)
    async def versions(self, info: Info) -> list[LeadModelVersion]:
        found = await store.list_versions(info.context.deps.db, self.record.id)
        return [LeadModelVersion.of(v) for v in found]

    @field("The latest training run's progress.", requires=None)
    async def training(self, info: Info) -> LeadModelProgress | None:
        return LeadModelProgress.of(
            await jobs.read_progress(info.context.deps.redis, "train", self.record.id)
        )

    @field("The latest scoring run's progress.", requires=None)
    async def scoring(self, info: Info) -> LeadModelProgress | None:
        return LeadModelProgress.of(
            await jobs.read_progress(info.context.deps.redis, "score", self.record.id)
        )


@strawberry.type
class LeadModelEdge:
    cursor: str
    node: LeadModel


@strawberry.type
class LeadModelConnection:
    edges: list[LeadModelEdge]
    page_info: relay.PageInfo


def lead_model_connection(
    found: list[LeadModelRecord], first: int, after: str | None
) -> LeadModelConnection:
    edges = [LeadModelEdge(cursor=m.name, node=LeadModel.of(m)) for m in found[:first]]
    cursors = [e.cursor for e in edges]
    return LeadModelConnection(edges=edges,
                               page_info=page_info(cursors, len(found) > first, after))  # fmt: skip


@strawberry.type(description="A feature that moved the predicted score, with its sign.")
class LeadFactor:
    feature: str
    label: str
    value: float | None = strawberry.field(description="The lead's value (null: missing).")
    points: float = strawberry.field(
        description="Score points it moved the lead from the model's base score (+ or -); the "
        "factors of all features add up to score - base."
    )
    log_odds: float


@strawberry.type(description="The published predictive model's output for a lead.")
class LeadPrediction:
    lead_model: strawberry.ID
    version: int
    probability: float
    score: int = strawberry.field(description="100 x probability, rounded.")
    factors: list[LeadFactor] = strawberry.field(description="The top 5 by |effect|.")

    @staticmethod
    async def read(db: Db, row: LeadRow, probability: float, score: int) -> LeadPrediction | None:
        """The prediction stored on a lead, its factors named by the version that wrote them;
        None when that version is gone."""
        if row.predicted_by is None or row.factors is None:
            return None
        model_id, number = row.predicted_by.rsplit(":", 1)
        named = await _version_features(db, model_id, int(number))
        if named is None:
            return None
        names, labels = named
        features, points, log_odds, values = row.factors
        found = [LeadFactor(feature=names[j], label=labels.get(names[j], names[j]),
                            value=None if math.isnan(v) else v, points=pt, log_odds=lo)
                 for j, pt, lo, v in zip(features, points, log_odds, values, strict=True)
                 if 0 <= j < len(names)]  # fmt: skip
        return LeadPrediction(
            lead_model=strawberry.ID(lead_model_gid(model_id)), version=int(number),
            probability=probability, score=score, factors=found,
        )  # fmt: skip


# version id -> (feature names, labels): a version never changes, so a process keeps them
_FEATURES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
KEEP_VERSIONS = 64


async def _version_features(
    db: Db, model_id: str, version: int
) -> tuple[tuple[str, ...], dict[str, str]] | None:
    key = store.version_id(model_id, version)
    if key not in _FEATURES:
        found = await store.get_version(db, model_id, version)
        if found is None:
            return None
        if len(_FEATURES) >= KEEP_VERSIONS:
            _FEATURES.clear()
        meta = found.metadata
        _FEATURES[key] = (tuple(meta["feature_names"]), dict(meta["feature_labels"]))
    return _FEATURES[key]


@strawberry.type
class LeadModelPayload:
    lead_model: LeadModel | None
    user_errors: list[UserError]


@strawberry.type
class LeadModelJobPayload:
    job_id: str | None
    queued: bool = strawberry.field(description="False when that run was already waiting.")
    user_errors: list[UserError]


@strawberry.type(description="A lead model's training or scoring progress, as it changes.")
class LeadModelProgressEvent:
    lead_model: strawberry.ID
    kind: str = strawberry.field(description="TRAIN or SCORE.")
    phase: str
    percent: int
    seconds: float
    version: int | None
    error: str | None

    @staticmethod
    def of(event: dict[str, Any]) -> LeadModelProgressEvent:
        return LeadModelProgressEvent(
            lead_model=strawberry.ID(lead_model_gid(event["modelId"])),
            kind=str(event["kind"]).upper(), phase=event["phase"],
            percent=int(event.get("percent", 0)), seconds=float(event.get("seconds", 0.0)),
            version=event.get("version"), error=event.get("error"),
        )  # fmt: skip


async def lead_model_events(
    redis: Redis, model_id: str
) -> AsyncGenerator[LeadModelProgressEvent, None]:
    """The latest training and scoring states of a model, then every change (listening first,
    as refreshProgress does, so nothing published in between is lost)."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(jobs.CHANNEL)
    try:
        for kind in ("train", "score"):
            latest = await jobs.read_progress(redis, kind, model_id)
            if latest is not None:
                yield LeadModelProgressEvent.of(latest)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
            if message is None or message.get("type") != "message":
                continue
            event = json.loads(message["data"])
            if event.get("modelId") == model_id:
                yield LeadModelProgressEvent.of(event)
    finally:
        await pubsub.unsubscribe(jobs.CHANNEL)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
