"""The only way names reach Cypher text: from validated schema objects, always backtick-quoted
by graph_schema's `quote_identifier`. Values never pass through here: they are parameters."""

from __future__ import annotations

from graph_schema import Attribute, Entity, Relationship, quote_identifier


def label(entity: Entity) -> str:
    return quote_identifier(entity.label)


def rel_type(relationship: Relationship) -> str:
    return quote_identifier(relationship.type)


def prop(variable: str, attribute: Attribute | str) -> str:
    """`n1.`total``: a property of a variable. Strings are the engine's own keys
    (`graph_schema.engine_labels`), never user input."""
    name = attribute if isinstance(attribute, str) else attribute.name
    return f"{variable}.{quote_identifier(name)}"


def name(raw: str) -> str:
    """An engine-owned label or type (from `graph_schema.engine_labels`)."""
    return quote_identifier(raw)
