"""Predictive lead models in Neo4j:

    (:_LeadModel {id, name (unique), description, state, entity, spec (JSON), references,
                  latestVersion (0 before the first training), publishedVersion, scheduleCron,
                  createdAt, createdBy, updatedAt, lastTrainedAt, lastRunAt, lastScheduledAt})
    (:_LeadModelVersion {id: "{model id}:{version}", modelId, version, trainedAt, trainedBy,
                         spec, metadata (JSON: features, library versions, data hash, config,
                         holdout metrics), points (JSON: the points model on the same holdout),
                         categories (JSON), dataHash, artifact (skops bytes), artifactBytes})

The artifact lives on its version node: every API process and worker reads the same bytes
through the driver they already hold, it is written in the same transaction as the metrics it
goes with, and backups of the database carry it. A few tens of kilobytes per version for the
logistic pipeline, so a property is no burden for Neo4j.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j.exceptions import ConstraintError

from server.predict.spec import LeadModelState, PredictSpec, spec_from_json, spec_to_json
from server.store.db import Db, Tx, rows

DEFAULT_CRON = "0 */2 * * *"  # every 2 hours, as points models


class NameTaken(Exception):
    """Another lead model has this name."""


class EntityTaken(Exception):
    """Another published lead model scores this entity (the attributes hold one value)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadModelRecord:
    id: str
    name: str
    description: str
    state: LeadModelState
    entity: str
    spec: PredictSpec
    references: tuple[str, ...]
    latest_version: int  # 0: never trained
    published_version: int | None
    schedule_cron: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    last_trained_at: datetime | None
    last_run_at: datetime | None
    last_scheduled_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadVersionRecord:
    id: str
    model_id: str
    version: int
    trained_at: datetime
    trained_by: str
    spec: PredictSpec
    metadata: dict[str, Any]  # scoring.ModelMetadata.to_dict()
    points: dict[str, Any] | None  # {"modelId", "name", "version", "metrics"} or None
    categories: dict[tuple[str, str], tuple[str, ...]]
    data_hash: str
    artifact_bytes: int


def version_id(model_id: str, version: int) -> str:
    return f"{model_id}:{version}"


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def to_model(p: dict[str, Any]) -> LeadModelRecord:
    return LeadModelRecord(
        id=p["id"], name=p["name"], description=p.get("description") or "",
        state=LeadModelState(p["state"]), entity=p["entity"], spec=spec_from_json(p["spec"]),
        references=tuple(p.get("references") or ()), latest_version=p["latestVersion"],
        published_version=p.get("publishedVersion"),
        schedule_cron=p.get("scheduleCron") or DEFAULT_CRON,
        created_at=p["createdAt"].to_native(), created_by=p["createdBy"],
        updated_at=p["updatedAt"].to_native(), last_trained_at=_native(p.get("lastTrainedAt")),
        last_run_at=_native(p.get("lastRunAt")),
        last_scheduled_at=_native(p.get("lastScheduledAt")),
    )  # fmt: skip


def categories_to_json(categories: dict[tuple[str, str], tuple[str, ...]]) -> str:
    return json.dumps(sorted([e, a, list(v)] for (e, a), v in categories.items()))


def categories_from_json(text: str) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(e, a): tuple(v) for e, a, v in json.loads(text)}


def to_version(p: dict[str, Any]) -> LeadVersionRecord:
    return LeadVersionRecord(
        id=p["id"], model_id=p["modelId"], version=p["version"],
        trained_at=p["trainedAt"].to_native(), trained_by=p["trainedBy"],
        spec=spec_from_json(p["spec"]), metadata=json.loads(p["metadata"]),
        points=json.loads(p["points"]) if p.get("points") else None,
        categories=categories_from_json(p["categories"]), data_hash=p["dataHash"],
        artifact_bytes=p["artifactBytes"],
    )  # fmt: skip


async def create_model(
    db: Db, model_id: str, name: str, description: str, spec: PredictSpec, entity: str,
    references: tuple[str, ...], actor: str, now: datetime,
) -> LeadModelRecord:  # fmt: skip
    """Raises NameTaken."""

    async def work(tx: Tx) -> LeadModelRecord:
        found = await rows(
            tx,
            "CREATE (m:_LeadModel {id: $id, name: $name, description: $description, "
            " state: 'DRAFT', entity: $entity, spec: $spec, references: $refs, "
            " latestVersion: 0, scheduleCron: $cron, createdAt: $now, createdBy: $actor, "
            " updatedAt: $now}) RETURN m",
            id=model_id, name=name, description=description, entity=entity,
            spec=spec_to_json(spec), refs=list(references), cron=DEFAULT_CRON, now=now,
            actor=actor,
        )  # fmt: skip
        await _link_references(tx, model_id)
        return to_model(dict(found[0]["m"]))

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(name) from exc


async def _link_references(tx: Tx, model_id: str) -> None:
    """`_READS` edges to the segments the definition's audience names (segment usage)."""
    await rows(tx, "MATCH (:_LeadModel {id: $id})-[r:_READS]->() DELETE r", id=model_id)
    await rows(
        tx,
        "MATCH (m:_LeadModel {id: $id}) UNWIND m.references AS name "
        "MATCH (s:_Segment {name: name}) MERGE (m)-[:_READS]->(s)",
        id=model_id,
    )


async def update_spec(
    db: Db, model_id: str, spec: PredictSpec, entity: str, references: tuple[str, ...],
    now: datetime,
) -> LeadModelRecord | None:  # fmt: skip
    """A new definition for the next training (trained versions keep their own)."""

    async def work(tx: Tx) -> LeadModelRecord | None:
        found = await rows(
            tx,
            "MATCH (m:_LeadModel {id: $id}) SET m.spec = $spec, m.references = $refs, "
            "m.entity = CASE WHEN m.publishedVersion IS NULL THEN $entity ELSE m.entity END, "
            "m.updatedAt = $now RETURN m",
            id=model_id, spec=spec_to_json(spec), refs=list(references), entity=entity, now=now,
        )  # fmt: skip
        if not found:
            return None
        await _link_references(tx, model_id)
        return to_model(dict(found[0]["m"]))

    return await db.write(work)


async def _write_one(db: Db, query: LiteralString, **params: Any) -> LeadModelRecord | None:
    async def work(tx: Tx) -> LeadModelRecord | None:
        found = await rows(tx, query, **params)
        return to_model(dict(found[0]["m"])) if found else None

    return await db.write(work)


async def get_model(db: Db, model_id: str) -> LeadModelRecord | None:
    found = await db.read("MATCH (m:_LeadModel {id: $id}) RETURN m", id=model_id)
    return to_model(dict(found[0]["m"])) if found else None


async def list_models(db: Db, first: int, after: str | None) -> list[LeadModelRecord]:
    """Models in name order after the name `after`, `first` + 1 of them."""
    found = await db.read(
        "MATCH (m:_LeadModel) WHERE $after IS NULL OR m.name > $after "
        "RETURN m ORDER BY m.name LIMIT $limit", after=after, limit=first + 1,
    )  # fmt: skip
    return [to_model(dict(r["m"])) for r in found]


async def published_models(db: Db, entity: str | None = None) -> list[LeadModelRecord]:
    found = await db.read(
        "MATCH (m:_LeadModel {state: 'PUBLISHED'}) WHERE $entity IS NULL OR m.entity = $entity "
        "RETURN m ORDER BY m.id", entity=entity,
    )  # fmt: skip
    return [to_model(dict(r["m"])) for r in found]


async def save_version(
    db: Db, model_id: str, spec: PredictSpec, metadata: dict[str, Any],
    points: dict[str, Any] | None, categories: dict[tuple[str, str], tuple[str, ...]],
    artifact: bytes, actor: str, now: datetime,
) -> LeadVersionRecord:  # fmt: skip
    """The next version with its artifact, in one transaction (metrics never without model)."""

    async def work(tx: Tx) -> LeadVersionRecord:
        found = await rows(
            tx,
            "MATCH (m:_LeadModel {id: $id}) SET m.latestVersion = m.latestVersion + 1, "
            " m.lastTrainedAt = $now, m.updatedAt = $now "
            "CREATE (v:_LeadModelVersion {id: $id + ':' + toString(m.latestVersion), "
            " modelId: $id, version: m.latestVersion, trainedAt: $now, trainedBy: $actor, "
            " spec: $spec, metadata: $metadata, points: $points, categories: $categories, "
            " dataHash: $hash, artifact: $artifact, artifactBytes: size($artifact)}) "
            "RETURN v {.*, artifact: null} AS v",
            id=model_id, now=now, actor=actor, spec=spec_to_json(spec),
            metadata=json.dumps(metadata, sort_keys=True),
            points=json.dumps(points, sort_keys=True) if points else None,
            categories=categories_to_json(categories), hash=metadata["data_hash"],
            artifact=artifact,
        )  # fmt: skip
        return to_version(dict(found[0]["v"]))

    return await db.write(work)


async def get_version(db: Db, model_id: str, version: int) -> LeadVersionRecord | None:
    found = await db.read(
        "MATCH (v:_LeadModelVersion {id: $id}) RETURN v {.*, artifact: null} AS v",
        id=version_id(model_id, version),
    )  # fmt: skip
    return to_version(dict(found[0]["v"])) if found else None


async def list_versions(db: Db, model_id: str) -> list[LeadVersionRecord]:
    found = await db.read(
        "MATCH (v:_LeadModelVersion {modelId: $id}) RETURN v {.*, artifact: null} AS v "
        "ORDER BY v.version DESC", id=model_id,
    )  # fmt: skip
    return [to_version(dict(r["v"])) for r in found]


async def read_artifact(db: Db, model_id: str, version: int) -> bytes | None:
    found = await db.read(
        "MATCH (v:_LeadModelVersion {id: $id}) RETURN v.artifact AS a",
        id=version_id(model_id, version),
    )  # fmt: skip
    return bytes(found[0]["a"]) if found else None


async def publish_version(
    db: Db, model_id: str, version: int, now: datetime
) -> LeadModelRecord | None:
    """Scoring runs use `version` from now on. None when there is no such model. Raises
    EntityTaken."""

    async def work(tx: Tx) -> LeadModelRecord | None:
        found = await rows(tx, "MATCH (m:_LeadModel {id: $id}) RETURN m", id=model_id)
        if not found:
            return None
        model = to_model(dict(found[0]["m"]))
        others = await rows(
            tx, "MATCH (m:_LeadModel {entity: $entity, state: 'PUBLISHED'}) WHERE m.id <> $id "
            "RETURN m.name AS name", entity=model.entity, id=model_id,
        )  # fmt: skip
        if others:
            raise EntityTaken(others[0]["name"])
        done = await rows(
            tx, "MATCH (m:_LeadModel {id: $id}) SET m.state = 'PUBLISHED', "
            "m.publishedVersion = $version, m.updatedAt = $now RETURN m",
            id=model_id, version=version, now=now,
        )  # fmt: skip
        return to_model(dict(done[0]["m"]))

    return await db.write(work)


async def unpublish(db: Db, model_id: str, now: datetime) -> LeadModelRecord | None:
    return await _write_one(
        db, "MATCH (m:_LeadModel {id: $id}) SET m.state = 'UNPUBLISHED', "
        "m.publishedVersion = null, m.updatedAt = $now RETURN m", id=model_id, now=now,
    )  # fmt: skip


async def mark_run(db: Db, model_id: str, at: datetime) -> None:
    await db.write(lambda tx: rows(tx, "MATCH (m:_LeadModel {id: $id}) SET m.lastRunAt = $at",
                                   id=model_id, at=at))  # fmt: skip


async def mark_scheduled(db: Db, model_ids: list[str], now: datetime) -> None:
    text: LiteralString = (
        "UNWIND $ids AS id MATCH (m:_LeadModel {id: id}) SET m.lastScheduledAt = $now"
    )
    await db.write(lambda tx: rows(tx, text, ids=model_ids, now=now))
