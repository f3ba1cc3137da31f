"""Score models in Neo4j:

    (:_ScoreModel {id, name (unique), description, state, latestVersion, publishedVersion,
                   entity, scheduleCron, createdAt, updatedAt, createdBy, lastRunAt,
                   lastScheduledAt})
      -[:_READS]->(:_Segment)          segments its current versions reference (usage)
    (:_ScoreModelVersion {modelId, version, state, spec (JSON), entity, references,
                          createdAt, createdBy})

A DRAFT version is edited in place; a PUBLISHED or RETIRED one is read-only, so editing a
model whose latest version is published writes version latest + 1 as a new DRAFT.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString

from neo4j.exceptions import ConstraintError

from server.leads.records import ScoreModelRecord, VersionRecord
from server.leads.spec import ModelSpec, ModelState, VersionState, spec_from_json, spec_to_json
from server.store.db import Db, Tx, rows

DEFAULT_CRON = "0 */2 * * *"  # every 2 hours, as the reference product


class NameTaken(Exception):
    """Another score model has this name."""


class EntityTaken(Exception):
    """Another published model scores this entity (scores are single-valued per profile)."""


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def to_model(p: dict[str, Any]) -> ScoreModelRecord:
    return ScoreModelRecord(
        id=p["id"], name=p["name"], description=p.get("description") or "",
        state=ModelState(p["state"]), latest_version=p["latestVersion"],
        published_version=p.get("publishedVersion"), entity=p["entity"],
        schedule_cron=p.get("scheduleCron") or DEFAULT_CRON,
        created_at=p["createdAt"].to_native(), updated_at=p["updatedAt"].to_native(),
        created_by=p["createdBy"], last_run_at=_native(p.get("lastRunAt")),
        last_scheduled_at=_native(p.get("lastScheduledAt")),
    )  # fmt: skip


def to_version(p: dict[str, Any]) -> VersionRecord:
    return VersionRecord(
        model_id=p["modelId"], version=p["version"], state=VersionState(p["state"]),
        spec=spec_from_json(p["spec"]), entity=p["entity"], references=tuple(p["references"]),
        created_at=p["createdAt"].to_native(), created_by=p["createdBy"],
    )  # fmt: skip


async def _write_version(
    tx: Tx, model_id: str, version: int, spec: ModelSpec, entity: str,
    references: tuple[str, ...], actor: str, now: datetime,
) -> None:  # fmt: skip
    await rows(
        tx,
        "MERGE (v:_ScoreModelVersion {modelId: $id, version: $version}) "
        "SET v.state = 'DRAFT', v.spec = $spec, v.entity = $entity, v.references = $refs, "
        "    v.createdAt = $now, v.createdBy = $actor",
        id=model_id, version=version, spec=spec_to_json(spec), entity=entity,
        refs=list(references), now=now, actor=actor,
    )  # fmt: skip
    await _link_references(tx, model_id)


async def _link_references(tx: Tx, model_id: str) -> None:
    """`_READS` edges to the segments the latest and the published version name."""
    await rows(tx, "MATCH (:_ScoreModel {id: $id})-[r:_READS]->() DELETE r", id=model_id)
    await rows(
        tx,
        "MATCH (m:_ScoreModel {id: $id}) "
        "MATCH (v:_ScoreModelVersion {modelId: $id}) "
        "WHERE v.version IN [m.latestVersion, m.publishedVersion] "
        "UNWIND v.references AS name "
        "MATCH (s:_Segment {name: name}) MERGE (m)-[:_READS]->(s)",
        id=model_id,
    )


async def create_model(
    db: Db, model_id: str, name: str, description: str, spec: ModelSpec, entity: str,
    references: tuple[str, ...], actor: str, now: datetime,
) -> ScoreModelRecord:  # fmt: skip
    """Raises NameTaken."""

    async def work(tx: Tx) -> ScoreModelRecord:
        await rows(
            tx,
            "CREATE (:_ScoreModel {id: $id, name: $name, description: $description, "
            " state: 'DRAFT', latestVersion: 1, entity: $entity, scheduleCron: $cron, "
            " createdAt: $now, updatedAt: $now, createdBy: $actor})",
            id=model_id, name=name, description=description, entity=entity, cron=DEFAULT_CRON,
            now=now, actor=actor,
        )  # fmt: skip
        await _write_version(tx, model_id, 1, spec, entity, references, actor, now)
        return await _get(tx, model_id)  # type: ignore[return-value]

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(name) from exc


async def _get(tx: Tx, model_id: str) -> ScoreModelRecord | None:
    found = await rows(tx, "MATCH (m:_ScoreModel {id: $id}) RETURN m", id=model_id)
    return to_model(dict(found[0]["m"])) if found else None


async def update_model(
    db: Db, model_id: str, name: str | None, description: str | None,
    change: tuple[ModelSpec, str, tuple[str, ...]] | None, actor: str, now: datetime,
) -> ScoreModelRecord | None:  # fmt: skip
    """Rename, redescribe and/or redefine (a new DRAFT version when the latest is read-only).
    None when there is no such model. Raises NameTaken."""

    async def work(tx: Tx) -> ScoreModelRecord | None:
        model = await _get(tx, model_id)
        if model is None:
            return None
        props: dict[str, Any] = {"updatedAt": now}
        props |= {"name": name} if name is not None else {}
        props |= {"description": description} if description is not None else {}
        if change is not None:
            latest = await _version(tx, model_id, model.latest_version)
            editable = latest is not None and latest.state is VersionState.DRAFT
            version = model.latest_version if editable else model.latest_version + 1
            props |= {"latestVersion": version}
            if model.published_version is None:
                props |= {"entity": change[1]}
        await rows(tx, "MATCH (m:_ScoreModel {id: $id}) SET m += $props", id=model_id,
                   props=props)  # fmt: skip
        if change is not None:
            spec, entity, refs = change
            await _write_version(tx, model_id, props["latestVersion"], spec, entity, refs,
                                 actor, now)  # fmt: skip
        return await _get(tx, model_id)

    try:
        return await db.write(work)
    except ConstraintError as exc:
        raise NameTaken(name) from exc


async def _version(tx: Tx, model_id: str, version: int) -> VersionRecord | None:
    found = await rows(
        tx, "MATCH (v:_ScoreModelVersion {modelId: $id, version: $version}) RETURN v",
        id=model_id, version=version,
    )  # fmt: skip
    return to_version(dict(found[0]["v"])) if found else None


async def publish_model(db: Db, model_id: str, now: datetime) -> ScoreModelRecord | None:
    """Publish the latest version (the previous published one retires). None when there is
    no such model. Raises EntityTaken."""

    async def work(tx: Tx) -> ScoreModelRecord | None:
        model = await _get(tx, model_id)
        if model is None:
            return None
        latest = await _version(tx, model_id, model.latest_version)
        assert latest is not None, "a model always has its latest version"
        others = await rows(
            tx, "MATCH (m:_ScoreModel {entity: $entity, state: 'PUBLISHED'}) WHERE m.id <> $id "
            "RETURN m.name AS name", entity=latest.entity, id=model_id,
        )  # fmt: skip
        if others:
            raise EntityTaken(others[0]["name"])
        await rows(
            tx,
            "MATCH (v:_ScoreModelVersion {modelId: $id}) WHERE v.state = 'PUBLISHED' "
            "SET v.state = 'RETIRED' "
            "WITH count(*) AS done "
            "MATCH (v:_ScoreModelVersion {modelId: $id, version: $version}) "
            "SET v.state = 'PUBLISHED' "
            "WITH v MATCH (m:_ScoreModel {id: $id}) "
            "SET m.state = 'PUBLISHED', m.publishedVersion = $version, m.entity = v.entity, "
            "    m.updatedAt = $now",
            id=model_id, version=latest.version, now=now,
        )  # fmt: skip
        await _link_references(tx, model_id)
        return await _get(tx, model_id)

    return await db.write(work)


async def unpublish_model(db: Db, model_id: str, now: datetime) -> ScoreModelRecord | None:
    """Stop scoring: the published version retires; scores already written stay."""

    async def work(tx: Tx) -> ScoreModelRecord | None:
        await rows(
            tx,
            "MATCH (v:_ScoreModelVersion {modelId: $id, state: 'PUBLISHED'}) "
            "SET v.state = 'RETIRED'",
            id=model_id,
        )
        await rows(
            tx, "MATCH (m:_ScoreModel {id: $id}) SET m.state = 'UNPUBLISHED', "
            "m.publishedVersion = null, m.updatedAt = $now", id=model_id, now=now,
        )  # fmt: skip
        await _link_references(tx, model_id)
        return await _get(tx, model_id)

    return await db.write(work)


async def get_model(db: Db, model_id: str) -> ScoreModelRecord | None:
    found = await db.read("MATCH (m:_ScoreModel {id: $id}) RETURN m", id=model_id)
    return to_model(dict(found[0]["m"])) if found else None


async def get_version(db: Db, model_id: str, version: int) -> VersionRecord | None:
    return await db.read_tx(lambda tx: _version(tx, model_id, version))


async def list_versions(db: Db, model_id: str) -> list[VersionRecord]:
    found = await db.read(
        "MATCH (v:_ScoreModelVersion {modelId: $id}) RETURN v ORDER BY v.version DESC",
        id=model_id,
    )
    return [to_version(dict(r["v"])) for r in found]


LIST_MODELS: LiteralString = (
    "MATCH (m:_ScoreModel) WHERE $after IS NULL OR m.name > $after "
    "RETURN m ORDER BY m.name LIMIT $limit"
)


async def list_models(db: Db, first: int, after: str | None) -> list[ScoreModelRecord]:
    """Models in name order after the name `after` (a keyset cursor), `first` + 1 of them."""
    found = await db.read(LIST_MODELS, after=after, limit=first + 1)
    return [to_model(dict(r["m"])) for r in found]


async def published_models(db: Db) -> list[ScoreModelRecord]:
    found = await db.read("MATCH (m:_ScoreModel {state: 'PUBLISHED'}) RETURN m ORDER BY m.id")
    return [to_model(dict(r["m"])) for r in found]


async def mark_scheduled(db: Db, model_ids: list[str], now: datetime) -> None:
    async def work(tx: Tx) -> None:
        await rows(tx, "UNWIND $ids AS id MATCH (m:_ScoreModel {id: id}) "
                   "SET m.lastScheduledAt = $now", ids=model_ids, now=now)  # fmt: skip

    await db.write(work)
