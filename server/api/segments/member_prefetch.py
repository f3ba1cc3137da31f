"""`segment(id:) { members(...) }` in one Neo4j round trip instead of two.

The `segment` resolver reads the segment, then `members` reads the page: two round trips, and
under load each waits its turn on the event loop again. When the `segment` field selects
`members` once, the resolver reads both in one query (`store.members.segment_with_members`)
and leaves the page in the request's context, keyed by what the page depends on (segment,
size, cursor, columns). The `members` resolver takes it only when its own arguments give the
same key, and reads as before otherwise: a prefetch that guessed wrong costs a read, never a
wrong answer. Only over HTTP, where the context is per request, so nothing outlives it.

Access checks and masking stay where they were: the page is read only for a caller holding
READ_MEMBERS, the columns are resolved by the same function, and PII is masked by the
`members` resolver as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import FieldNode, GraphQLError, GraphQLObjectType
from graphql.execution.values import VariableValues, get_argument_values
from starlette.requests import Request

from server.access import Permission
from server.api.common import nodes_select
from server.api.context import Info
from server.api.errors import ApiError
from server.api.segments import reading
from server.store.members import segment_with_members
from server.store.pages import InvalidCursor
from server.store.records import Member, Page, SegmentRecord


@dataclass(frozen=True, slots=True)
class PageKey:
    segment_id: str
    size: int
    after: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Asked:
    first: int | None
    after: str | None
    columns: list[str] | None
    properties: bool


def _asked(info: Info) -> _Asked | None:
    """The arguments of the one `members` directly under this `segment` field (graphql-core's
    nodes, coerced as for the resolver), or None when there is none, more than one (aliases),
    or it carries directives."""
    raw = info._raw_info
    found = [s for root in raw.field_nodes if root.selection_set
             for s in root.selection_set.selections
             if isinstance(s, FieldNode) and s.name.value == "members"]  # fmt: skip
    segment_type = raw.schema.get_type("Segment")
    if len(found) != 1 or found[0].directives or not isinstance(segment_type, GraphQLObjectType):
        return None
    # strawberry keeps the coerced variables as a plain dict, graphql-core wants its container
    variables: Any = raw.variable_values
    if isinstance(variables, dict):
        variables = VariableValues(sources={}, coerced=variables)
    try:
        args = get_argument_values(segment_type.fields["members"], found[0], variables)
    except (GraphQLError, LookupError, TypeError, AttributeError):
        return None  # the members resolver reads (and reports) as it always did
    properties = nodes_select(found, raw.fragments, ("members", "edges", "node", "properties"))
    return _Asked(args.get("first"), args.get("after"), args.get("columns"), properties)


def _columns_of(info: Info, asked: list[str] | None) -> dict[str, list[str]]:
    """The columns `members` would show for each audience (those it would refuse left out)."""
    deps = info.context.deps
    found: dict[str, list[str]] = {}
    for entity in deps.schema.entities:
        try:
            found[entity.name] = reading.member_columns(deps, entity.name, asked)
        except ApiError:
            continue
    return found


async def segment_and_members(info: Info, segment_id: str) -> SegmentRecord | Literal[False] | None:
    """The segment, read with the page its `members` field will ask for, that page left in the
    context; False when this request does not fit (the caller reads the segment alone)."""
    deps = info.context.deps
    # Over HTTP the context lives for one request; a socket's lives for the connection, where
    # a page left by one operation could be taken by a later one: sockets read as before.
    if not isinstance(info.context.request, Request):
        return False
    if not deps.principal.can(Permission.READ_MEMBERS):
        return False
    asked = _asked(info)
    if asked is None:
        return False
    try:
        size = reading.page_size(deps, asked.first)
        columns_of = _columns_of(info, asked.columns) if asked.properties else None
        found = await segment_with_members(deps.db, segment_id, size, asked.after, columns_of)
    except (ApiError, InvalidCursor):
        return False  # `members` reads again and reports it with its code
    if found is None:
        return None
    record, page, columns = found
    info.context.member_pages[PageKey(segment_id, size, asked.after, columns)] = page
    info.context.segments.prime(segment_id, record)
    return record


def prefetched(
    info: Info, segment_id: str, first: int | None, after: str | None, columns: list[str]
) -> Page[Member] | None:
    """The page `segment_and_members` read for exactly these arguments, if it did."""
    pages = info.context.member_pages
    if not pages:
        return None
    size = reading.page_size(info.context.deps, first)
    return pages.get(PageKey(segment_id, size, after, tuple(columns)))
