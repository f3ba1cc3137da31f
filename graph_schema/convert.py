"""CSV cell text to the values the importer sends: one converter per attribute type.

An empty cell is None (the property is absent). Converters raise ValueError with a reason.
Dates and datetimes are validated here but sent as ISO text and built by Cypher's date() and
datetime(): strings pack much faster over Bolt than the driver's temporal objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime

from graph_schema.model import AttrType

Converter = Callable[[str], object]

_BOOLEANS = {
    "true": True, "t": True, "yes": True, "y": True, "1": True,
    "false": False, "f": False, "no": False, "n": False, "0": False,
}  # fmt: skip


def to_string(text: str) -> str | None:
    return text or None


def to_integer(text: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"not an integer: {text!r}") from None


def to_float(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value + 0.0  # -0.0 becomes 0.0: Neo4j orders -0.0 below 0.0 although they are equal


def to_boolean(text: str) -> bool | None:
    if not text:
        return None
    found = _BOOLEANS.get(text.strip().lower())
    if found is None:
        raise ValueError(f"not a boolean (true/false, yes/no, 1/0): {text!r}")
    return found


def to_date(text: str) -> str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {text!r}") from None


def to_datetime(text: str) -> str | None:
    """ISO 8601; stored in UTC (a datetime without an offset is taken as UTC).

    Neo4j treats the same instant in two offsets as unequal (and orders them by offset), so
    keeping every stored datetime in UTC, like the compiler's parameters, keeps `=`, `<=` and
    `IN` exact at equal instants.
    """
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a datetime (ISO 8601): {text!r}") from None
    return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


CONVERTERS: dict[AttrType, Converter] = {
    AttrType.STRING: to_string,
    AttrType.INTEGER: to_integer,
    AttrType.FLOAT: to_float,
    AttrType.BOOLEAN: to_boolean,
    AttrType.DATE: to_date,
    AttrType.DATETIME: to_datetime,
}
