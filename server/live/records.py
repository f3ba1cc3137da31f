"""Ingestion records, as validated: what to upsert, what links to add, and what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph_schema import Entity, Relationship


@dataclass(frozen=True, slots=True)
class Link:
    relationship: Relationship
    other: Entity
    other_key: Any
    outgoing: bool  # the record is the relationship's source
    at: tuple[str, ...]  # where the record gave it: ("links", "2"), or ("profile",) for a track


@dataclass(frozen=True, slots=True)
class Upsert:
    index: int  # position in the batch, for errors
    entity: Entity
    key: Any
    values: dict[str, Any]  # attribute name -> converted value (None removes it)
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Delete:
    """A record to remove, with its relationships (`type: delete`)."""

    index: int
    entity: Entity
    key: Any


@dataclass(frozen=True, slots=True)
class RecordError:
    index: int
    field: tuple[str, ...]  # path inside the record, e.g. ("properties", "total")
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Change:
    """A record that changed: enough to find the profiles it can move."""

    entity: str
    key: Any
    attributes: tuple[str, ...] = ()  # the attributes written
    structural: bool = True  # a new record or a new link: any segment reaching it may move

    def to_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "key": self.key, "attributes": list(self.attributes),
                "structural": self.structural}  # fmt: skip


@dataclass(slots=True)
class Validated:
    upserts: list[Upsert] = field(default_factory=list)
    deletes: list[Delete] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
