"""What the reference evaluator needs to decide a few profiles: their neighbourhood in the graph.

`neighbourhood_queries(segment)` prints one read query per relationship chain the segment can
walk from the audience (every prefix of every nested path); run each with `$keys` and pass the
rows to `dataset_from_rows` to get a `Dataset` on which `evaluate_segment` and
`explain_membership` decide exactly those profiles. The API's `membership(segment, profile)`
uses it for why-in / why-not; incremental refresh can use it for a handful of changed keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grammar import bound as b
from grammar.cypher import escape
from grammar.cypher.printer import CompiledCypher
from grammar.evaluate import Dataset, Key
from grammar.walk import groups_of
from graph_schema import Direction, Entity, Step, engine_labels

KEYS_PARAM = "keys"


@dataclass(frozen=True, slots=True)
class Chain:
    """Steps from the audience; `entities[0]` is the audience."""

    steps: tuple[Step, ...]
    entities: tuple[Entity, ...]

    def then(self, path: b.BoundPath) -> Chain:
        return Chain((*self.steps, *path.steps), (*self.entities, *path.entities[1:]))


def chains_of(segment: b.BoundSegment) -> tuple[Chain, ...]:
    """The audience alone, then every chain the conditions walk (with its prefixes), shortest
    first, each once."""
    root = Chain((), (segment.audience,))
    found: dict[tuple[Step, ...], Chain] = {(): root}
    for group in groups_of(segment.body):
        for chain in _chains(group.condition, root):
            for n in range(1, len(chain.steps) + 1):
                found.setdefault(chain.steps[:n], Chain(chain.steps[:n], chain.entities[: n + 1]))
    return tuple(sorted(found.values(), key=lambda c: len(c.steps)))


def _chains(node: b.BoundCondition | None, chain: Chain) -> Iterator[Chain]:
    match node:
        case b.BoundAnd(items=items) | b.BoundOr(items=items):
            for item in items:
                yield from _chains(item, chain)
        case b.BoundNot(item=item):
            yield from _chains(item, chain)
        case (
            b.BoundRelated(path=path, condition=inner)
            | b.BoundAggregate(path=path, condition=inner)
        ):
            yield chain.then(path)
            yield from _chains(inner, chain.then(path))
        case b.BoundSequence(first=first, second=second):
            for event in (first, second):
                yield chain.then(event.path)
                yield from _chains(event.condition, chain.then(event.path))
        case _:
            return


def neighbourhood_queries(segment: b.BoundSegment) -> tuple[CompiledCypher, ...]:
    """One query per chain of `chains_of`, each returning rows `nodes` (properties of every
    record on one walk) and `rels` (each relationship's element id and properties). Parameter:
    `$keys`, the profile keys."""
    return tuple(_chain_query(chain) for chain in chains_of(segment))


def _chain_query(chain: Chain) -> CompiledCypher:
    audience = chain.entities[0]
    key = escape.prop("n0", audience.key_attribute)
    text = f"MATCH (n0:{escape.label(audience)}) WHERE {key} IN ${KEYS_PARAM}"
    pattern = "(n0)"
    for i, (step, entity) in enumerate(zip(chain.steps, chain.entities[1:], strict=True)):
        rel = f"[r{i}:{escape.rel_type(step.relationship)}]"
        arrow = f"-{rel}->" if step.direction is Direction.OUT else f"<-{rel}-"
        pattern += f"{arrow}(n{i + 1}:{escape.label(entity)})"
    if chain.steps:
        text += f"\nMATCH {pattern}"
    nodes = ", ".join(f"properties(n{i})" for i in range(len(chain.entities)))
    rels = ", ".join(f"[elementId(r{i}), properties(r{i})]" for i in range(len(chain.steps)))
    return CompiledCypher(f"{text}\nRETURN [{nodes}] AS nodes, [{rels}] AS rels", {})


def memberships_query(segment: b.BoundSegment) -> CompiledCypher:
    """Rows `name`, `key`: members among `$keys` of the active version of each stored segment
    the definition refers to (see `graph_schema.engine_labels`). Each version is read once,
    per segment, not per membership: reads are read-committed, and a refresh switching it
    mid-query must not mix two versions (as in the compiled forms)."""
    e = engine_labels
    active = escape.prop("s", e.ACTIVE_VERSION)
    since, until = escape.prop("m", e.MEMBER_SINCE), escape.prop("m", e.MEMBER_UNTIL)
    name, key = escape.prop("s", e.SEGMENT_NAME), escape.prop("m", e.MEMBER_KEY)
    text = (
        f"MATCH (s:{escape.name(e.SEGMENT_LABEL)}) WHERE {name} IN $names\n"
        f"WITH s, {active} AS v\n"
        f"MATCH (s)-[m:{escape.name(e.MEMBER_REL)}]->() WHERE {key} IN ${KEYS_PARAM} "
        f"AND {since} <= v AND ({until} IS NULL OR {until} > v)\n"
        f"RETURN {name} AS name, {key} AS key"
    )
    names: list[b.Value] = list(segment.referenced_segments)
    return CompiledCypher(text, {"names": names})


def memberships_from_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, frozenset[Key]]:
    found: dict[str, set[Key]] = {}
    for row in rows:
        found.setdefault(row["name"], set()).add(row["key"])
    return {name: frozenset(keys) for name, keys in found.items()}


def dataset_from_rows(
    segment: b.BoundSegment, results: Sequence[Sequence[Mapping[str, Any]]]
) -> Dataset:
    """The records and relationships the queries of `neighbourhood_queries` returned (one row
    list per query, in order). Driver temporal values are turned into Python ones."""
    entities: dict[str, dict[Key, dict[str, Any]]] = {}
    relationships: dict[str, dict[str, tuple[Key, Key, dict[str, Any]]]] = {}
    for chain, rows in zip(chains_of(segment), results, strict=True):
        for row in rows:
            nodes, rels = row["nodes"], row["rels"]
            keys = [_record(entities, e, p) for e, p in zip(chain.entities, nodes, strict=True)]
            for i, (step, (rel_id, props)) in enumerate(zip(chain.steps, rels, strict=True)):
                ends = (keys[i], keys[i + 1])
                source, target = ends if step.direction is Direction.OUT else ends[::-1]
                edges = relationships.setdefault(step.relationship.type, {})
                edges[rel_id] = (source, target, _native(props))
    return Dataset(
        entities=entities,
        relationships={t: list(edges.values()) for t, edges in relationships.items()},
    )


def _record(entities: dict[str, dict[Key, dict[str, Any]]], entity: Entity,
            props: Mapping[str, Any]) -> Key:  # fmt: skip
    row = _native(props)
    key: Key = row[entity.key]
    entities.setdefault(entity.name, {})[key] = row
    return key


def _native(props: Mapping[str, Any]) -> dict[str, Any]:
    """Driver temporal types expose `to_native()`; grammar does not import the driver."""
    return {k: v.to_native() if hasattr(v, "to_native") else v for k, v in props.items()}
