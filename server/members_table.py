"""How members become table rows, for every reader that writes them out (members.csv, exports):
which columns (profile attributes, in the schema's spelling) and formula-safe CSV cells.

Cells that a spreadsheet would run as a formula (starting with = + - @ tab or CR, or their
fullwidth forms, which Excel reads as formulas in CJK locales; also after leading spaces, which
importers may trim) are prefixed with a quote (OWASP's CSV injection advice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grammar.errors import did_you_mean
from graph_schema.model import Entity

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass(frozen=True, slots=True)
class Columns:
    names: tuple[str, ...]  # attribute names in the schema's spelling, in the order asked
    unknown: tuple[int, ...]  # positions of asked names the entity does not have


def resolve_columns(entity: Entity, asked: Sequence[str] | None) -> Columns:
    """The attributes to write: all of the entity's when `asked` is None, else the asked ones
    (matched ignoring case and surrounding spaces)."""
    if asked is None:
        return Columns(tuple(a.name for a in entity.attributes), ())
    found = [entity.attribute(name.strip()) for name in asked]
    unknown = tuple(i for i, a in enumerate(found) if a is None)
    return Columns(tuple(a.name for a in found if a is not None), unknown)


def unknown_column(entity: Entity, name: str) -> str:
    """Why `name` is not a column, with the closest attribute when one is close."""
    close = did_you_mean(name.strip(), [a.name for a in entity.attributes])
    hint = f" Did you mean `{close}`?" if close else ""
    return f"{name.strip()!r} is not an attribute of {entity.name}.{hint}"


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text
