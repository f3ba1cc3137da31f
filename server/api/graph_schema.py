"""The `graphSchema` query: the data model segment builders offer (entities, attributes,
relationships, and the paths from each entity to each audience type)."""

from __future__ import annotations

import strawberry

from graph_schema import model
from server.api.common import field
from server.api.context import Info

strawberry.enum(model.AttrType, name="AttributeType")
strawberry.enum(model.Cardinality)
strawberry.enum(model.Direction)


@strawberry.type
class SchemaAttribute:
    name: str
    type: model.AttrType
    pii: bool
    indexed: bool
    description: str

    @staticmethod
    def of(a: model.Attribute) -> SchemaAttribute:
        return SchemaAttribute(
            name=a.name, type=a.type, pii=a.pii, indexed=a.indexed, description=a.description
        )


@strawberry.type
class SchemaRelationship:
    type: str
    source: str
    target: str
    cardinality: model.Cardinality
    attributes: list[SchemaAttribute]
    description: str

    @staticmethod
    def of(r: model.Relationship) -> SchemaRelationship:
        return SchemaRelationship(
            type=r.type, source=r.source, target=r.target, cardinality=r.cardinality,
            attributes=[SchemaAttribute.of(a) for a in r.attributes], description=r.description,
        )  # fmt: skip


@strawberry.type
class SchemaStep:
    relationship: str
    direction: model.Direction
    source: str = strawberry.field(description="The entity the step leaves.")
    target: str = strawberry.field(description="The entity the step reaches.")


@strawberry.type(description="A simple path between two entities, shortest first.")
class SchemaPath:
    start: str
    end: str
    description: str
    steps: list[SchemaStep]

    @staticmethod
    def of(p: model.Path) -> SchemaPath:
        steps = [
            SchemaStep(
                relationship=s.relationship.type,
                direction=s.direction,
                source=s.origin,
                target=s.destination,
            )
            for s in p.steps
        ]
        return SchemaPath(start=p.start, end=p.end, description=p.describe(), steps=steps)


@strawberry.type
class SchemaEntity:
    name: str
    label: str
    key: str
    profile: bool = strawberry.field(description="An audience type segments can select.")
    description: str
    attributes: list[SchemaAttribute]
    entity: strawberry.Private[model.Entity]

    @field("Paths from this entity to each audience type.")
    def paths_to_audiences(self, info: Info, max_hops: int = 3) -> list[SchemaPath]:
        schema = info.context.deps.schema
        hops = max(1, min(max_hops, 4))
        found = [
            p for audience in schema.profiles if audience.name != self.name
            for p in schema.paths(self.name, audience.name, max_hops=hops)
        ]  # fmt: skip
        return [SchemaPath.of(p) for p in found]


@strawberry.type
class GraphSchemaInfo:
    name: str
    entities: list[SchemaEntity]
    relationships: list[SchemaRelationship]
    audiences: list[str] = strawberry.field(description="Names of the profile entities.")


def describe(schema: model.GraphSchema) -> GraphSchemaInfo:
    entities = [
        SchemaEntity(
            name=e.name,
            label=e.label,
            key=e.key,
            profile=e.profile,
            description=e.description,
            attributes=[SchemaAttribute.of(a) for a in e.attributes],
            entity=e,
        )
        for e in schema.entities
    ]
    return GraphSchemaInfo(
        name=schema.name,
        entities=entities,
        relationships=[SchemaRelationship.of(r) for r in schema.relationships],
        audiences=[e.name for e in schema.profiles],
    )


@strawberry.type
class GraphSchemaQueries:
    @field("The graph's data model as segment builders see it.")
    def graph_schema(self, info: Info) -> GraphSchemaInfo:
        return describe(info.context.deps.schema)
