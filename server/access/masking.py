"""PII masking of member values for callers without the PII grant."""

from __future__ import annotations

from collections.abc import Iterable

from graph_schema.model import Entity

MASK = "***"


def pii_columns(entity: Entity, columns: Iterable[str]) -> frozenset[str]:
    """The columns among `columns` that are PII attributes of `entity`."""
    pii = {a.name for a in entity.attributes if a.pii}
    return frozenset(c for c in columns if c in pii)


def mask_value(value: object) -> object:
    """A missing value stays missing (that it is empty is no secret); any other is masked."""
    return None if value is None else MASK
