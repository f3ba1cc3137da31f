"""The graph's data model: entities, attributes, relationships, loading, import and demo data.

Depends on nothing else of ours. Modules that talk to Neo4j (import) import the driver lazily so
that `grammar` can depend on this package without the driver installed.
"""

from graph_schema.cypher_names import quote_identifier
from graph_schema.errors import SchemaError, SchemaErrorCode, SchemaIssue
from graph_schema.loader import default_schema, load_schema, parse_schema
from graph_schema.model import (
    IDENTIFIER,
    RESERVED_PREFIX,
    Attribute,
    AttrType,
    Cardinality,
    Direction,
    Entity,
    GraphSchema,
    Path,
    Relationship,
    Step,
)

__all__ = [
    "IDENTIFIER",
    "RESERVED_PREFIX",
    "AttrType",
    "Attribute",
    "Cardinality",
    "Direction",
    "Entity",
    "GraphSchema",
    "Path",
    "Relationship",
    "SchemaError",
    "SchemaErrorCode",
    "SchemaIssue",
    "Step",
    "default_schema",
    "load_schema",
    "parse_schema",
    "quote_identifier",
]
