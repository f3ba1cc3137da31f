"""Which file loads when, and which relationships ride along with a node file.

A relationship joined through a foreign-key column of an entity's own CSV (`customerId` in
orders.csv) is merged in the same statement that upserts that entity's nodes: one read of the
file and one key lookup fewer per row than a separate relationship pass. That needs the other
end (the anchor) loaded first, so entity files are ordered anchors-first; a relationship that
cannot ride along (a cycle, a join file, a missing column) keeps its own pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph_schema.model import Entity, GraphSchema, Relationship


@dataclass(frozen=True, slots=True)
class Link:
    """A relationship merged while loading `owner`'s file: (anchor)-[T]->(owner) or reverse."""

    relationship: Relationship
    owner: Entity
    anchor: Entity
    anchor_is_source: bool

    @property
    def anchor_column(self) -> str:
        r = self.relationship
        column = r.source_column if self.anchor_is_source else r.target_column
        assert column is not None, "links are only made for relationships with join columns"
        return column


@dataclass(frozen=True, slots=True)
class LoadPlan:
    entities: tuple[tuple[Entity, tuple[Link, ...]], ...]  # in load order, with their links
    relationships: tuple[Relationship, ...]  # loaded in their own pass, after all nodes


def _has(header: list[str], name: str) -> bool:
    return name.casefold() in (h.casefold() for h in header)


def _link(schema: GraphSchema, rel: Relationship, headers: dict[str, list[str]]) -> Link | None:
    owners = [e for e in schema.entities if e.csv and e.csv == rel.csv]
    if len(owners) != 1 or rel.source == rel.target or rel.csv not in headers:
        return None
    owner = owners[0]
    if owner.name not in (rel.source, rel.target):
        return None
    anchor_is_source = rel.target == owner.name
    own_column = rel.target_column if anchor_is_source else rel.source_column
    if (own_column or "").casefold() != owner.key.casefold():
        return None  # joined on something other than the owner's key
    anchor = schema.require_entity(rel.source if anchor_is_source else rel.target)
    link = Link(rel, owner, anchor, anchor_is_source)
    return link if _has(headers[rel.csv], link.anchor_column) else None


def plan_load(
    schema: GraphSchema, headers: dict[str, list[str]], *, merge_foreign_keys: bool = True
) -> LoadPlan:
    """Order entity files anchors-first and attach links; `headers` maps present files.
    Without `merge_foreign_keys`, every relationship gets its own pass."""
    links: dict[str, list[Link]] = {}
    for rel in schema.relationships:
        link = _link(schema, rel, headers) if merge_foreign_keys else None
        if link:
            links.setdefault(link.owner.name, []).append(link)
    present = {e.name for e in schema.entities if e.csv in headers}
    remaining = [e for e in schema.entities if e.csv in headers]
    ordered: list[tuple[Entity, tuple[Link, ...]]] = []
    done: set[str] = set()

    def usable(link: Link) -> bool:  # an anchor without a file has nothing to wait for
        return link.anchor.name in done or link.anchor.name not in present

    while remaining:
        entity = next(
            (e for e in remaining if all(usable(k) for k in links.get(e.name, []))),
            remaining[0],  # a cycle: load this one now, its unusable links get their own pass
        )
        ordered.append((entity, tuple(k for k in links.get(entity.name, []) if usable(k))))
        done.add(entity.name)
        remaining.remove(entity)
    fused = {k.relationship.type for _, own in ordered for k in own}
    separate = tuple(r for r in schema.relationships if r.csv and r.type not in fused)
    return LoadPlan(tuple(ordered), separate)
