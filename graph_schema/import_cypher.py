"""The importer's Cypher text, built only from validated schema names via `quote_identifier`.

Rows travel as lists (`r[0]` key, then one position per column) rather than maps, so Bolt does
not repeat every property name in every row; values are never part of the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph_schema.csv_batches import Column, LinkColumns
from graph_schema.cypher_names import quote_identifier as q
from graph_schema.import_plan import Link
from graph_schema.model import AttrType, Entity, GraphSchema, Relationship


@dataclass(frozen=True, slots=True)
class Ddl:
    name: str
    statement: str


def constraint_name(entity: Entity) -> str:
    return f"{entity.label}_{entity.key}_key"


def index_name(owner: str, attribute: str) -> str:
    return f"{owner}_{attribute}_idx"


def schema_ddl(schema: GraphSchema) -> tuple[list[Ddl], list[Ddl]]:
    """Uniqueness constraints on keys, then range indexes on indexed non-key attributes."""
    constraints = [
        Ddl(
            constraint_name(e),
            f"CREATE CONSTRAINT {q(constraint_name(e))} IF NOT EXISTS "
            f"FOR (n:{q(e.label)}) REQUIRE n.{q(e.key)} IS UNIQUE",
        )
        for e in schema.entities
    ]
    indexes = [
        Ddl(
            index_name(e.label, a.name),
            f"CREATE RANGE INDEX {q(index_name(e.label, a.name))} IF NOT EXISTS "
            f"FOR (n:{q(e.label)}) ON (n.{q(a.name)})",
        )
        for e in schema.entities
        for a in e.attributes
        if a.indexed and a.name != e.key
    ]
    indexes += [
        Ddl(
            index_name(r.type, a.name),
            f"CREATE RANGE INDEX {q(index_name(r.type, a.name))} IF NOT EXISTS "
            f"FOR ()-[e:{q(r.type)}]-() ON (e.{q(a.name)})",
        )
        for r in schema.relationships
        for a in r.attributes
        if a.indexed
    ]
    return constraints, indexes


def _value(column: Column, position: int) -> str:
    cell = f"r[{position}]"
    if column.type is AttrType.DATE:
        return f"date({cell})"
    if column.type is AttrType.DATETIME:
        return f"datetime({cell})"
    return cell


def _sets(variable: str, columns: Sequence[Column], first: int) -> str:
    # Setting null removes the property: an emptied cell clears it on re-import.
    parts = [f"{variable}.{q(c.name)} = {_value(c, i)}" for i, c in enumerate(columns, first)]
    return f"SET {', '.join(parts)}" if parts else ""


def node_upsert(entity: Entity, columns: Sequence[Column]) -> str:
    """MERGE on the key (the uniqueness constraint makes this an index seek), then SET."""
    return (
        f"UNWIND $rows AS r MERGE (n:{q(entity.label)} {{{q(entity.key)}: r[0]}}) "
        + _sets("n", columns[1:], 1)
    ).strip()


def node_upsert_with_links(
    entity: Entity, columns: Sequence[Column], node_columns: int,
    links: Sequence[tuple[Link, LinkColumns]],
) -> str:  # fmt: skip
    """Upsert nodes and merge each link to its anchor when the anchor exists.

    Returns `i, missing` for rows whose non-empty anchor key matched no node: `missing` holds
    one boolean per link. FOREACH over an empty or one-element list is Cypher's conditional.
    """
    parts = [
        "UNWIND range(0, size($rows) - 1) AS i WITH i, $rows[i] AS r",
        f"MERGE (n:{q(entity.label)} {{{q(entity.key)}: r[0]}})",
        _sets("n", columns[1:node_columns], 1),
        "WITH i, r, n",
    ]
    carried: list[str] = []
    for j, (link, pos) in enumerate(links):
        anchor, rel = link.anchor, link.relationship
        arrow = f"(a{j})-[e{j}:{q(rel.type)}]->(n)" if link.anchor_is_source else (
            f"(n)-[e{j}:{q(rel.type)}]->(a{j})")  # fmt: skip
        sets = ", ".join(
            f"e{j}.{q(columns[p].name)} = {_value(columns[p], p)}" for p in pos.attributes
        )
        parts += [
            f"OPTIONAL MATCH (a{j}:{q(anchor.label)} {{{q(anchor.key)}: r[{pos.anchor_key}]}})",
            f"FOREACH (_ IN CASE WHEN a{j} IS NULL THEN [] ELSE [1] END | MERGE {arrow}"
            + (f" SET {sets})" if sets else ")"),
            f"WITH i, r, n{''.join(', ' + c for c in carried)}, "
            f"a{j} IS NULL AND r[{pos.anchor_key}] IS NOT NULL AS m{j}",
        ]
        carried.append(f"m{j}")
    missing = ", ".join(carried)
    parts.append(f"WITH i, [{missing}] AS missing WHERE true IN missing RETURN i, missing")
    return " ".join(p for p in parts if p)


def _endpoints(schema: GraphSchema, rel: Relationship) -> str:
    source, target = schema.require_entity(rel.source), schema.require_entity(rel.target)
    return (
        f"MATCH (a:{q(source.label)} {{{q(source.key)}: r[0]}}) "
        f"MATCH (b:{q(target.label)} {{{q(target.key)}: r[1]}}) "
    )


def relationship_upsert(schema: GraphSchema, rel: Relationship, columns: Sequence[Column]) -> str:
    """MERGE between two existing endpoints; returns how many rows found both ends."""
    sets = _sets("e", columns[2:], 2)
    return (
        f"UNWIND $rows AS r {_endpoints(schema, rel)}"
        f"MERGE (a)-[e:{q(rel.type)}]->(b) {sets} RETURN count(*) AS matched"
    )


def unmatched_rows(schema: GraphSchema, rel: Relationship) -> str:
    """Which rows name an endpoint that does not exist (run only when some row did not match)."""
    source, target = schema.require_entity(rel.source), schema.require_entity(rel.target)
    has_source = f"EXISTS {{ MATCH (a:{q(source.label)} {{{q(source.key)}: r[0]}}) }}"
    has_target = f"EXISTS {{ MATCH (b:{q(target.label)} {{{q(target.key)}: r[1]}}) }}"
    return (
        "UNWIND range(0, size($rows) - 1) AS i WITH i, $rows[i] AS r "
        f"WITH i, {has_source} AS hasSource, {has_target} AS hasTarget "
        "WHERE NOT (hasSource AND hasTarget) RETURN i, hasSource"
    )
