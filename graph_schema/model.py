"""The graph schema as immutable values: entities, attributes, relationships, and paths.

Everything downstream (the segment language, the importer, the API) reads the user's data model
from these objects only, so no module hard-codes the default schema's labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
"""Physical names (labels, relationship types, property keys) must match this before they are
ever printed into Cypher."""

RESERVED_PREFIX = "_"
"""Labels, relationship types and properties starting with this belong to the engine itself
(segment metadata and memberships); a user schema may not declare them."""


class AttrType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def is_numeric(self) -> bool:
        return self in (AttrType.INTEGER, AttrType.FLOAT)

    @property
    def is_temporal(self) -> bool:
        return self in (AttrType.DATE, AttrType.DATETIME)


class Cardinality(StrEnum):
    ONE_TO_ONE = "one_to_one"
    ONE_TO_MANY = "one_to_many"
    MANY_TO_ONE = "many_to_one"
    MANY_TO_MANY = "many_to_many"


class Direction(StrEnum):
    OUT = "out"  # (a)-[:T]->(b): the step follows the relationship's declared direction
    IN = "in"  # (a)<-[:T]-(b): the step walks against it


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribute:
    name: str
    type: AttrType
    indexed: bool = False
    pii: bool = False
    description: str = ""


def _find(items: tuple[Attribute, ...], name: str) -> Attribute | None:
    folded = name.casefold()
    return next((a for a in items if a.name.casefold() == folded), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entity:
    """A node label. `name` is what users write; `label` is the Neo4j label (usually equal)."""

    name: str
    label: str
    key: str
    attributes: tuple[Attribute, ...]
    profile: bool = False
    csv: str | None = None
    description: str = ""

    def attribute(self, name: str) -> Attribute | None:
        """Case-insensitive lookup; the loader guarantees names are unique ignoring case."""
        return _find(self.attributes, name)

    @property
    def key_attribute(self) -> Attribute:
        found = self.attribute(self.key)
        assert found is not None, "the loader guarantees the key is an attribute"
        return found


@dataclass(frozen=True, slots=True, kw_only=True)
class Relationship:
    """A relationship type between two entities, with how a CSV file joins them."""

    type: str
    source: str  # entity name
    target: str  # entity name
    cardinality: Cardinality = Cardinality.MANY_TO_MANY
    attributes: tuple[Attribute, ...] = ()
    csv: str | None = None
    source_column: str | None = None
    target_column: str | None = None
    description: str = ""

    def attribute(self, name: str) -> Attribute | None:
        return _find(self.attributes, name)


@dataclass(frozen=True, slots=True)
class Step:
    """One hop of a path: walk `relationship` from `origin` to `destination` in `direction`."""

    relationship: Relationship
    direction: Direction

    @property
    def origin(self) -> str:
        r = self.relationship
        return r.source if self.direction is Direction.OUT else r.target

    @property
    def destination(self) -> str:
        r = self.relationship
        return r.target if self.direction is Direction.OUT else r.source


@dataclass(frozen=True, slots=True)
class Path:
    """A simple path between two entities (no entity visited twice)."""

    start: str
    steps: tuple[Step, ...]

    @property
    def end(self) -> str:
        return self.steps[-1].destination if self.steps else self.start

    @property
    def entities(self) -> tuple[str, ...]:
        return (self.start, *(s.destination for s in self.steps))

    def describe(self) -> str:
        """Human text such as `Customer -PLACED-> Order <-CONTAINS- OrderLine`."""
        parts = [self.start]
        for s in self.steps:
            t = s.relationship.type
            arrow = f"-{t}->" if s.direction is Direction.OUT else f"<-{t}-"
            parts += [arrow, s.destination]
        return " ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphSchema:
    entities: tuple[Entity, ...]
    relationships: tuple[Relationship, ...]
    name: str = "schema"
    _by_name: dict[str, Entity] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {e.name.casefold(): e for e in self.entities})

    def entity(self, name: str) -> Entity | None:
        """Case-insensitive lookup by entity name."""
        return self._by_name.get(name.casefold())

    def require_entity(self, name: str) -> Entity:
        found = self.entity(name)
        if found is None:
            raise KeyError(name)
        return found

    @property
    def profiles(self) -> tuple[Entity, ...]:
        """Entities that segments can select: the audience types."""
        return tuple(e for e in self.entities if e.profile)

    def relationships_of(self, entity: str) -> tuple[Step, ...]:
        """Every step that leaves `entity`, in declaration order."""
        folded = entity.casefold()
        steps: list[Step] = []
        for r in self.relationships:
            if r.source.casefold() == folded:
                steps.append(Step(r, Direction.OUT))
            if r.target.casefold() == folded:
                steps.append(Step(r, Direction.IN))
        return tuple(steps)

    def paths(self, start: str, end: str, *, max_hops: int = 4) -> tuple[Path, ...]:
        """All simple paths from `start` to `end` of 1..max_hops steps, shortest first.

        Deterministic: ties keep the schema's declaration order, so error messages listing
        candidate paths and the compiler's choice never change between runs.
        """
        first = self.require_entity(start)
        target = self.require_entity(end).name
        found: list[Path] = []

        def walk(path: Path) -> None:
            if path.steps and path.end == target:
                found.append(path)
                return
            if len(path.steps) >= max_hops:
                return
            for step in self.relationships_of(path.end):
                if step.destination in path.entities and step.destination != target:
                    continue
                if step.destination == target and target == path.start and path.steps:
                    continue
                walk(Path(path.start, (*path.steps, step)))

        walk(Path(first.name, ()))
        return tuple(sorted(found, key=lambda p: len(p.steps)))
