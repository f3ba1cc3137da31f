"""Opaque keyset cursors and the sortable columns of the segments list.

A cursor holds the sort key and id of the last row seen plus the ordering it belongs to, so a
page always starts strictly after that row whatever was inserted or deleted meanwhile (no
duplicates, no gaps among rows that did not change), and a cursor from another ordering is
refused rather than misread.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import StrEnum
from json import dumps
from json.encoder import encode_basestring_ascii
from typing import LiteralString


class InvalidCursor(ValueError):
    """The cursor is malformed or belongs to another ordering."""


class SegmentOrderField(StrEnum):
    NAME = "NAME"
    DISPLAY_NAME = "DISPLAY_NAME"
    TYPE = "TYPE"
    AUDIENCE = "AUDIENCE"
    STATE = "STATE"
    STATUS = "STATUS"
    LAST_REFRESHED_AT = "LAST_REFRESHED_AT"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    MEMBER_COUNT = "MEMBER_COUNT"


class SortDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


# Sort keys are never null (null compares as unknown and would drop rows from keyset pages):
# text columns are required properties, times become epoch millis with -1 for "never".
SORT_KEYS: dict[SegmentOrderField, LiteralString] = {
    SegmentOrderField.NAME: "s.name",
    SegmentOrderField.DISPLAY_NAME: "s.displayName",
    SegmentOrderField.TYPE: "s.type",
    SegmentOrderField.AUDIENCE: "s.audience",
    SegmentOrderField.STATE: "s.state",
    SegmentOrderField.STATUS: "s.status",
    SegmentOrderField.LAST_REFRESHED_AT: "coalesce(s.lastRefreshedAt.epochMillis, -1)",
    SegmentOrderField.CREATED_AT: "s.createdAt.epochMillis",
    SegmentOrderField.UPDATED_AT: "s.updatedAt.epochMillis",
    # The count each version switch keeps; none before the first switch, which has no members.
    SegmentOrderField.MEMBER_COUNT: "coalesce(s.memberCount, 0)",
}
_NUMERIC = {
    SegmentOrderField.LAST_REFRESHED_AT,
    SegmentOrderField.CREATED_AT,
    SegmentOrderField.UPDATED_AT,
    SegmentOrderField.MEMBER_COUNT,
}


@dataclass(frozen=True, slots=True)
class SegmentOrder:
    field: SegmentOrderField = SegmentOrderField.NAME
    direction: SortDirection = SortDirection.ASC


@dataclass(frozen=True, slots=True)
class Position:
    """The last row of the previous page: its sort key and id."""

    key: str | int
    id: str


# A cursor is the compact JSON of [scope, key, id], written directly: one per row of a page, and
# json's encoder (even one built once) cost more than the rest of a member row.
_text = encode_basestring_ascii


def encode_cursor(scope: str, key: str | int, row_id: str) -> str:
    shown = _text(key) if isinstance(key, str) else str(key) if type(key) is int else dumps(key)
    raw = f"[{_text(scope)},{shown},{_text(row_id)}]".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(scope: str, cursor: str) -> Position:
    """Raises InvalidCursor when malformed or made for another scope (list and ordering)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found_scope, key, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if found_scope != scope or not isinstance(row_id, str) or not isinstance(key, str | int):
        raise InvalidCursor("cursor belongs to another list or ordering")
    return Position(key, row_id)


def order_scope(order: SegmentOrder) -> str:
    return f"segments:{order.field}:{order.direction}"


def check_key_type(order: SegmentOrder, position: Position) -> Position:
    numeric = order.field in _NUMERIC
    if numeric != isinstance(position.key, int) or isinstance(position.key, bool):
        raise InvalidCursor("cursor key does not fit the ordering")
    return position
