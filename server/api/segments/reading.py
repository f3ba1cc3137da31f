"""Read paths: page-size rules and cursor errors, then the store."""

from __future__ import annotations

from collections.abc import Sequence

from server.access import pii_columns
from server.api.context import Deps
from server.api.errors import ApiError, ErrorCode
from server.members_table import resolve_columns, unknown_column
from server.store import definitions, members, usage
from server.store import segments as store
from server.store.pages import InvalidCursor, SegmentOrder
from server.store.records import (
    DefinitionRecord,
    Dependent,
    Member,
    Page,
    SegmentRecord,
    UsageRecord,
)
from server.store.segments import SegmentFilter

DEFAULT_PAGE = 100


def page_size(deps: Deps, first: int | None) -> int:
    """`first` capped at the configured maximum. Raises ApiError for a negative size."""
    if first is None:
        return min(DEFAULT_PAGE, deps.max_page_size)
    if first < 0:
        raise ApiError(ErrorCode.BAD_USER_INPUT, "first must not be negative")
    return min(first, deps.max_page_size)


def _bad_cursor(exc: InvalidCursor) -> ApiError:
    return ApiError(ErrorCode.INVALID_CURSOR, str(exc))


async def list_segments(
    deps: Deps, f: SegmentFilter, order: SegmentOrder, first: int | None, after: str | None
) -> Page[SegmentRecord]:
    try:
        return await store.list_segments(deps.db, f, order, page_size(deps, first), after)
    except InvalidCursor as exc:
        raise _bad_cursor(exc) from exc


async def by_name(deps: Deps, name: str) -> SegmentRecord | None:
    return await store.get_segment_by_name(deps.db, name)


async def list_members(
    deps: Deps, segment_id: str, first: int | None, after: str | None,
    columns: Sequence[str] | None = None,
) -> Page[Member]:  # fmt: skip
    """A page of members with all their properties, or only `columns` (none when empty)."""
    size = page_size(deps, first)
    try:
        return await members.list_members(deps.db, segment_id, size, after, columns)
    except InvalidCursor as exc:
        raise _bad_cursor(exc) from exc


def member_columns(deps: Deps, audience: str, asked: list[str] | None) -> list[str]:
    """Attribute names of the audience entity to show (all by default), in the schema's
    spelling. Raises ApiError for a name that is not one of its attributes."""
    entity = deps.schema.require_entity(audience)
    columns = resolve_columns(entity, asked)
    if columns.unknown and asked:
        problems = " ".join(unknown_column(entity, asked[i]) for i in columns.unknown)
        raise ApiError(ErrorCode.BAD_USER_INPUT, f"columns: {problems}")
    return list(columns.names)


def masked_columns(deps: Deps, audience: str, columns: list[str]) -> frozenset[str]:
    """The PII columns among `columns`, unless the caller may read PII."""
    if deps.principal.reads_pii:
        return frozenset()
    return pii_columns(deps.schema.require_entity(audience), columns)


async def count_members(deps: Deps, segment_id: str) -> int:
    return await members.count_members(deps.db, segment_id)


async def list_definitions(
    deps: Deps, segment_id: str, first: int | None, after: str | None
) -> Page[DefinitionRecord]:
    size = page_size(deps, first)
    try:
        return await definitions.list_definitions(deps.db, segment_id, size, after)
    except InvalidCursor as exc:
        raise _bad_cursor(exc) from exc


async def current_definition(deps: Deps, seg: SegmentRecord) -> DefinitionRecord | None:
    return await definitions.get_definition(deps.db, seg.id, seg.definition_version)


async def list_dependents(deps: Deps, segment_id: str) -> list[Dependent]:
    return await usage.list_dependents(deps.db, segment_id)


async def list_usages(deps: Deps, segment_id: str) -> list[UsageRecord]:
    return await usage.list_usages(deps.db, segment_id)
