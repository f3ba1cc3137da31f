"""Customers and segments written straight to the graph for fault tests, with the memberships
two definitions must select computed here in Python (the oracle the readers check against)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from graph_schema import default_schema
from graph_schema.import_cypher import schema_ddl
from server.refresh.graph import Graph, Tx, rows

# 60 % and 40 % of the customers: distinct sizes, so a count alone tells which version it saw.
DEFINITION_A = "segment Customer where satisfaction >= 40"
DEFINITION_B = "segment Customer where satisfaction < 40"


def customer_key(i: int) -> str:
    return f"c{i:07d}"


def satisfaction(i: int) -> int:
    return (i * 37) % 100


@dataclass(frozen=True)
class Memberships:
    a: tuple[str, ...]  # sorted keys selected by DEFINITION_A
    b: tuple[str, ...]

    def of(self, text: str) -> tuple[str, ...]:
        return self.a if text == DEFINITION_A else self.b


async def add_customers(graph: Graph, count: int, batch: int = 10_000) -> Memberships:
    """Customers as `segments import` leaves them: with the schema's key constraints and
    indexes (without them every membership write scans all customers)."""
    constraints, indexes = schema_ddl(default_schema())
    for ddl in (*constraints, *indexes):
        await graph.auto(ddl.statement)  # quoted schema identifiers only
    for start in range(0, count, batch):
        data = [{"id": customer_key(i), "s": satisfaction(i)}
                for i in range(start, min(count, start + batch))]  # fmt: skip
        await graph.write(partial(_create_customers, data=data))
    a = sorted(customer_key(i) for i in range(count) if satisfaction(i) >= 40)
    b = sorted(customer_key(i) for i in range(count) if satisfaction(i) < 40)
    return Memberships(tuple(a), tuple(b))


async def _create_customers(tx: Tx, data: list[dict[str, object]]) -> None:
    await rows(
        tx, "UNWIND $rows AS r CREATE (:Customer {customerId: r.id, satisfaction: r.s})", rows=data
    )


async def make_segment(graph: Graph, segment_id: str, text: str) -> None:
    """A dynamic Customer segment with definition version 1, shaped like the store's."""
    await graph.write(
        lambda tx: rows(
            tx,
            "CREATE (s:_Segment {id: $id, name: $id, displayName: $id, type: 'DYNAMIC', "
            " audience: 'Customer', state: 'ACTIVE', valid: true, status: 'NOT_STARTED', "
            " tags: [], timezone: 'UTC', scheduleKind: 'SYSTEM', definitionVersion: 1, "
            " activeVersion: 0, versionSeq: 0, createdAt: datetime(), updatedAt: datetime(), "
            " createdBy: 'test'}) "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, version: 1, "
            " text: $text, valid: true})",
            id=segment_id,
            text=text,
        )
    )


async def set_definition(graph: Graph, segment_id: str, text: str) -> int:
    """Save the next definition version (as the API does on update); returns it."""
    found = await graph.write(
        lambda tx: rows(
            tx,
            "MATCH (s:_Segment {id: $id}) SET s.definitionVersion = s.definitionVersion + 1 "
            "CREATE (s)-[:_HAS_DEFINITION]->(:_SegmentDefinition {segmentId: $id, "
            " version: s.definitionVersion, text: $text, valid: true}) "
            "RETURN s.definitionVersion AS v",
            id=segment_id,
            text=text,
        )
    )
    return int(found[0]["v"])
