"""The `graphSchema` query: the data model segment builders offer (entities, attributes,
relationships, and the paths from each entity to each audience type)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from graph_schema import model
from server.api.common import field
from server.api.context import Info
from server.store.value_stats import ValueStats, attribute_stats

strawberry.enum(model.AttrType, name="AttributeType")
strawberry.enum(model.Cardinality)
strawberry.enum(model.Direction)


@strawberry.type(description="A value and how often it occurs in the sample.")
class ValueCount:
    value: JSON
    count: int


@strawberry.type
class Percentile:
    p: float = strawberry.field(description="0 to 1; 0.5 is the median.")
    value: float


@strawberry.type(description="The values an attribute holds, from a sample of its records.")
class AttributeValues:
    total: int = strawberry.field(description="Records of the entity.")
    sample_size: int
    sampled: bool = strawberry.field(description="False when every record was read.")
    non_null: int
    distinct: int
    top: list[ValueCount] = strawberry.field(
        description="The 10 most common values; empty unless at most 100 distinct values."
    )
    percentiles: list[Percentile] = strawberry.field(description="Numeric attributes only.")
    minimum: str | None = strawberry.field(description="Dates and datetimes: the earliest.")
    maximum: str | None

    @staticmethod
    def of(v: ValueStats) -> AttributeValues:
        return AttributeValues(
            total=v.total, sample_size=v.sample_size, sampled=v.sampled, non_null=v.non_null,
            distinct=v.distinct, top=[ValueCount(value=val, count=c) for val, c in v.top],
            percentiles=[Percentile(p=p, value=x) for p, x in v.percentiles],
            minimum=v.minimum, maximum=v.maximum,
        )  # fmt: skip


@strawberry.type
class SchemaAttribute:
    name: str
    type: model.AttrType
    pii: bool
    indexed: bool
    description: str
    attribute: strawberry.Private[model.Attribute]
    owner: strawberry.Private[model.Entity | None]  # None: a relationship's attribute

    @staticmethod
    def of(a: model.Attribute, owner: model.Entity | None = None) -> SchemaAttribute:
        return SchemaAttribute(
            name=a.name, type=a.type, pii=a.pii, indexed=a.indexed, description=a.description,
            attribute=a, owner=owner,
        )  # fmt: skip

    @field(
        "Top values and percentiles for builders (sampled, cached a few minutes). Null for "
        "relationship attributes, and for PII attributes without READ_PII."
    )
    async def values(self, info: Info) -> AttributeValues | None:
        deps = info.context.deps
        if self.owner is None or (self.attribute.pii and not deps.principal.reads_pii):
            return None
        stats = await attribute_stats(deps.db, deps.redis, self.owner, self.attribute)
        return AttributeValues.of(stats)


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
            attributes=[SchemaAttribute.of(a, e) for a in e.attributes],
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
