"""Schemas for the grammar tests: the default one, and a non-default one built in Python so the
compiler is shown to read names from the schema only (labels differ from entity names here)."""

from __future__ import annotations

import datetime as dt

from graph_schema import (
    Attribute,
    AttrType,
    Entity,
    GraphSchema,
    Relationship,
    default_schema,
)

NOW = dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC)  # the day Europe's clocks go forward

S, INT, F, B, D, T = (
    AttrType.STRING,
    AttrType.INTEGER,
    AttrType.FLOAT,
    AttrType.BOOLEAN,
    AttrType.DATE,
    AttrType.DATETIME,
)


def _attrs(indexed: tuple[str, ...] = (), **types: AttrType) -> tuple[Attribute, ...]:
    return tuple(
        Attribute(name=name, type=kind, indexed=name in indexed) for name, kind in types.items()
    )


def _entity(name: str, key: str, *, label: str | None = None, profile: bool = False,
            indexed: tuple[str, ...] = (), **types: AttrType) -> Entity:  # fmt: skip
    return Entity(
        name=name, label=label or name, key=key, profile=profile,
        attributes=_attrs(indexed, **types),
    )  # fmt: skip


def club_schema() -> GraphSchema:
    """Members of a club: a profile whose label differs from its name, two relationships to
    Ticket (an ambiguous path), relationship attributes, and keyword-like attribute names."""
    entities = (
        _entity("Member", "memberId", label="ClubMember", profile=True, memberId=S,
                nickname=S, joinedOn=D, vip=B, points=INT, spend=F, lastSeen=T, count=INT),
        _entity("Household", "householdId", profile=True, householdId=S, size=INT),
        # indexed attributes: blocks over them may start candidate-driven members queries
        _entity("Purchase", "purchaseId", purchaseId=S, amount=F, at=T, store=S,
                indexed=("amount", "at", "store")),
        _entity("Ticket", "ticketId", ticketId=S, severity=INT, openedAt=T, closedAt=T,
                indexed=("severity", "openedAt")),
        _entity("Visit", "visitId", visitId=S, visitedOn=D, indexed=("visitedOn",)),
        _entity("Note", "noteId", noteId=S),  # related to nothing
    )  # fmt: skip
    relationships = (
        Relationship(type="BOUGHT", source="Member", target="Purchase"),
        Relationship(type="OPENED", source="Member", target="Ticket"),
        Relationship(type="ASSIGNED", source="Member", target="Ticket"),
        Relationship(
            type="BELONGS_TO",
            source="Member",
            target="Household",
            attributes=_attrs(role=S, since=D),
        ),
        Relationship(type="MADE", source="Member", target="Visit"),
    )
    return GraphSchema(entities=entities, relationships=relationships, name="club")


def chain_schema(hops: int = 5) -> GraphSchema:
    """A profile whose only path to `L{hops}` has `hops` steps."""
    entities = [_entity("Root", "id", profile=True, id=S)]
    entities += [_entity(f"L{i}", "id", id=S, v=INT, indexed=("v",)) for i in range(1, hops + 1)]
    names = [e.name for e in entities]
    relationships = tuple(
        Relationship(type=f"NEXT{i}", source=names[i - 1], target=names[i])
        for i in range(1, hops + 1)
    )
    return GraphSchema(entities=tuple(entities), relationships=relationships, name="chain")


DEFAULT = default_schema()
CLUB = club_schema()
