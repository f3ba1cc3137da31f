"""Validated upserts and deletes -> Neo4j, in one transaction: all of a batch's accepted
records or none. Deletes apply after the batch's upserts.

Idempotent by key: nodes are MERGEd on their entity key, links MERGEd, deletes of records already
gone do nothing, so a retried batch changes nothing. Labels, relationship types and property
names come from the graph schema (quoted by `quote_identifier`); every value is a parameter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from graph_schema import AttrType, Entity, GraphSchema, Relationship, quote_identifier
from server.live.records import Change, Delete, Link, RecordError, Upsert
from server.store.db import Db, Tx, rows
from server.store.members import uncount_profiles

_CONVERT = {AttrType.DATE: "date", AttrType.DATETIME: "datetime"}


def _upsert_query(entity: Entity) -> str:
    label, key = quote_identifier(entity.label), quote_identifier(entity.key)
    sets = []
    for attribute in entity.attributes:
        if attribute.name == entity.key:
            continue
        name = quote_identifier(attribute.name)
        fn = _CONVERT.get(attribute.type)
        value = f"{fn}(r.v.{name})" if fn else f"r.v.{name}"
        sets.append(
            f"n.{name} = CASE WHEN r.drop.{name} THEN null "
            f"WHEN r.v.{name} IS NULL THEN n.{name} ELSE {value} END"
        )
    tail = f" SET {', '.join(sets)}" if sets else ""
    return f"UNWIND $rows AS r MERGE (n:{label} {{{key}: r.key}}){tail}"


def _link_query(entity: Entity, link: Link) -> str:
    mine = f"(a:{quote_identifier(entity.label)} {{{quote_identifier(entity.key)}: r.a}})"
    other = f"(b:{quote_identifier(link.other.label)} {{{quote_identifier(link.other.key)}: r.b}})"
    rel = quote_identifier(link.relationship.type)
    arrow = f"(a)-[:{rel}]->(b)" if link.outgoing else f"(b)-[:{rel}]->(a)"
    return f"UNWIND $rows AS r MATCH {mine} MATCH {other} MERGE {arrow}"


def _exists_query(entity: Entity) -> str:
    label, key = quote_identifier(entity.label), quote_identifier(entity.key)
    return f"UNWIND $keys AS k MATCH (n:{label} {{{key}: k}}) RETURN collect(k) AS found"


async def write_records(
    db: Db, schema: GraphSchema, upserts: list[Upsert], deletes: Sequence[Delete] = ()
) -> tuple[list[Change], list[RecordError]]:
    """Write the upserts whose links reach existing records (or records of the batch); the
    others come back as errors. Then delete `deletes`. Returns the changed records."""

    async def work(tx: Tx) -> tuple[list[Change], list[RecordError]]:
        errors = await _missing_link_targets(tx, upserts)
        refused = {e.index for e in errors}
        accepted = [u for u in upserts if u.index not in refused]
        existing = await _existing(tx, accepted)
        await _write_nodes(tx, accepted)
        await _write_links(tx, accepted)
        removed = await _delete_nodes(tx, schema, deletes)
        return _changes(accepted, existing) + removed, errors

    return await db.write(work)


async def _delete_nodes(tx: Tx, schema: GraphSchema, deletes: Sequence[Delete]) -> list[Change]:
    """Delete records with their relationships. Their neighbours, found first, change
    structurally: every path from a profile to a deleted record passes one of them (or starts
    at the record, when it is a profile), so the reverse walks find whom it moves."""
    by_entity: dict[str, tuple[Entity, set[Any]]] = {}
    for d in deletes:
        by_entity.setdefault(d.entity.name, (d.entity, set()))[1].add(d.key)
    changes: list[Change] = []
    for entity, keys in by_entity.values():
        for rel in schema.relationships:
            for other, outgoing in _ends(schema, entity, rel):
                query = _neighbours_query(entity, rel, other, outgoing)
                found = await rows(tx, query, keys=list(keys))
                changes += [Change(other.name, k) for k in found[0]["keys"]]
        await uncount_profiles(tx, entity, list(keys))
        deleted = await rows(tx, _delete_query(entity), keys=list(keys))
        changes += [Change(entity.name, k) for k in deleted[0]["keys"]]
    return changes


def _ends(schema: GraphSchema, entity: Entity, rel: Relationship) -> list[tuple[Entity, bool]]:
    """The other end of `rel` from `entity`, per direction it can be walked (both for a
    relationship from an entity to itself)."""
    ends = []
    if rel.source == entity.name:
        ends.append((schema.require_entity(rel.target), True))
    if rel.target == entity.name:
        ends.append((schema.require_entity(rel.source), False))
    return ends


def _neighbours_query(entity: Entity, rel: Relationship, other: Entity, outgoing: bool) -> str:
    mine = f"(a:{quote_identifier(entity.label)} {{{quote_identifier(entity.key)}: k}})"
    theirs = f"(b:{quote_identifier(other.label)})"
    arrow = f"-[:{quote_identifier(rel.type)}]->"
    pattern = f"{mine}{arrow}{theirs}" if outgoing else f"{theirs}{arrow}{mine}"
    key = f"b.{quote_identifier(other.key)}"
    return f"UNWIND $keys AS k MATCH {pattern} RETURN collect(DISTINCT {key}) AS keys"


def _delete_query(entity: Entity) -> str:
    label, key = quote_identifier(entity.label), quote_identifier(entity.key)
    return (
        f"UNWIND $keys AS k MATCH (n:{label} {{{key}: k}}) DETACH DELETE n "
        "RETURN collect(k) AS keys"
    )


async def _missing_link_targets(tx: Tx, upserts: list[Upsert]) -> list[RecordError]:
    in_batch = {(u.entity.name, u.key) for u in upserts}
    wanted: dict[str, tuple[Entity, set[Any]]] = {}
    for u in upserts:
        for link in u.links:
            if (link.other.name, link.other_key) not in in_batch:
                wanted.setdefault(link.other.name, (link.other, set()))[1].add(link.other_key)
    existing: set[tuple[str, Any]] = set()
    for name, (entity, keys) in wanted.items():
        found = await rows(tx, _exists_query(entity), keys=list(keys))
        existing |= {(name, k) for k in found[0]["found"]}
    errors = []
    for u in upserts:
        for link in u.links:
            target = (link.other.name, link.other_key)
            if target not in in_batch and target not in existing:
                message = f"no {link.other.name} with key {link.other_key!r}"
                errors.append(RecordError(u.index, (*link.at, "key"), "NOT_FOUND", message))
    return errors


async def _existing(tx: Tx, upserts: list[Upsert]) -> set[tuple[str, Any]]:
    """The records that exist before the write: the others are new (structural changes)."""
    wanted: dict[str, tuple[Entity, set[Any]]] = {}
    for u in upserts:
        wanted.setdefault(u.entity.name, (u.entity, set()))[1].add(u.key)
    found: set[tuple[str, Any]] = set()
    for name, (entity, keys) in wanted.items():
        records = await rows(tx, _exists_query(entity), keys=list(keys))
        found |= {(name, k) for k in records[0]["found"]}
    return found


async def _write_nodes(tx: Tx, upserts: Iterable[Upsert]) -> None:
    by_entity: dict[str, tuple[Entity, list[dict[str, Any]]]] = {}
    for u in upserts:
        row = {
            "key": u.key,
            "v": {k: v for k, v in u.values.items() if v is not None},
            "drop": {k: True for k, v in u.values.items() if v is None},
        }
        by_entity.setdefault(u.entity.name, (u.entity, []))[1].append(row)
    for entity, batch in by_entity.values():
        await rows(tx, _upsert_query(entity), rows=batch)


async def _write_links(tx: Tx, upserts: Iterable[Upsert]) -> None:
    groups: dict[tuple[str, str, str, bool], tuple[Entity, Link, list[dict[str, Any]]]] = {}
    for u in upserts:
        for link in u.links:
            group = (u.entity.name, link.relationship.type, link.other.name, link.outgoing)
            found = groups.setdefault(group, (u.entity, link, []))
            found[2].append({"a": u.key, "b": link.other_key})
    for entity, link, batch in groups.values():
        await rows(tx, _link_query(entity, link), rows=batch)


def _changes(upserts: Iterable[Upsert], existing: set[tuple[str, Any]]) -> list[Change]:
    """One change a record: the attributes written, or structural (new, or linked anew)."""
    attributes: dict[tuple[str, Any], set[str]] = defaultdict(set)
    structural: set[tuple[str, Any]] = set()
    for u in upserts:
        record = (u.entity.name, u.key)
        attributes[record] |= set(u.values)
        if record not in existing or u.links:
            structural.add(record)
        for link in u.links:  # a new link changes both ends' neighbourhoods
            structural.add((link.other.name, link.other_key))
            attributes.setdefault((link.other.name, link.other_key), set())
    return [
        Change(entity, key, tuple(sorted(attrs)), (entity, key) in structural)
        for (entity, key), attrs in attributes.items()
    ]
