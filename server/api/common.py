"""GraphQL types shared by every domain: user errors and connection helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)
from strawberry import relay
from strawberry.types.nodes import SelectedField, Selection

from server.access import Permission
from server.api import permissions
from server.api.errors import Problem, UserErrorCode
from server.store.records import Page

strawberry.enum(UserErrorCode, description="Why a mutation input was refused.")


@strawberry.type(description="A position in a definition's text (1-based).")
class Span:
    line: int
    column: int


@strawberry.type(description="A fixable problem with a mutation's input.")
class UserError:
    code: UserErrorCode
    field: list[str] = strawberry.field(description="Path of the input field, e.g. [input, name].")
    message: str
    span: Span | None = None


def user_errors(problems: Sequence[Problem]) -> list[UserError]:
    return [
        UserError(
            code=p.code,
            field=list(p.field),
            message=p.message,
            span=Span(line=p.line, column=p.column) if p.line and p.column else None,
        )
        for p in problems
    ]


def page_info(cursors: Sequence[str], has_next: bool, after: str | None) -> relay.PageInfo:
    return relay.PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


R = TypeVar("R")
N = TypeVar("N")
C = TypeVar("C")


def connection(
    page: Page[R],
    after: str | None,
    node_of: Callable[[R], N],
    edge: Callable[..., Any],
    make: Callable[..., C],
) -> C:
    """A Relay connection of `page`: `edge(cursor=, node=)` per row, then
    `make(edges=, page_info=, total_count=)`; one builder for every list in the API."""
    edges = [edge(cursor=c, node=node_of(r)) for r, c in zip(page.items, page.cursors, strict=True)]
    info = page_info(page.cursors, page.has_next, after)
    return make(edges=edges, page_info=info, total_count=page.total)


def selects(selections: Iterable[Selection], *path: str) -> bool:
    """Whether `selections` (`info.selected_fields`: the resolving field itself) hold the
    field at `path`, through fragments too. A field under `@skip`/`@include` counts as
    asked: a resolver that reads less when a field is not asked must never read too little."""
    if not path:
        return True
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and selects(selection.selections, *path[1:]):
                return True
        elif selects(selection.selections, *path):  # a fragment: its fields are ours
            return True
    return False


def asks(info: strawberry.Info[Any, Any], *path: str) -> bool:
    """`selects(info.selected_fields, *path)` read from graphql-core's nodes: the same answer
    without converting the whole selection first (about half a millisecond on a member page)."""
    raw = info._raw_info
    return nodes_select(raw.field_nodes, raw.fragments, path)


def nodes_select(
    nodes: Iterable[SelectionNode],
    fragments: dict[str, FragmentDefinitionNode],
    path: Sequence[str],
) -> bool:
    """Whether graphql-core's selection `nodes` hold the field at `path` (as `selects`)."""
    if not path:
        return True
    for node in nodes:
        if isinstance(node, FieldNode):
            inner = node.selection_set.selections if node.selection_set else ()
            if node.name.value == path[0] and nodes_select(inner, fragments, path[1:]):
                return True
        elif isinstance(node, InlineFragmentNode):
            if nodes_select(node.selection_set.selections, fragments, path):
                return True
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            inner = fragment.selection_set.selections if fragment is not None else ()
            if nodes_select(inner, fragments, path):
                return True
    return False


def segment_gid(segment_id: str) -> str:
    return str(relay.GlobalID("Segment", segment_id))


def decode_gid(value: str, type_name: str) -> str | None:
    """The node id inside a global id of `type_name`, or None when it is not one."""
    try:
        gid = relay.GlobalID.from_id(value)
    except Exception:  # strawberry raises several error types for malformed ids
        return None
    return gid.node_id if gid.type_name == type_name else None


F = TypeVar("F", bound=Callable[..., Any])


def field(
    description: str,
    *,
    requires: Permission | None = Permission.READ_SEGMENTS,
    graphql_type: Any | None = None,
) -> Callable[[F], F]:
    """`@strawberry.field(description=...)` guarded by a permission, typed for mypy
    (strawberry's overload is Any). `graphql_type` overrides the type the annotation gives.
    `requires=None` only for a nested field that needs no more than the root field reaching
    it checked (a check costs per row: a hundred in a page)."""
    guard = [] if requires is None else [permissions.requires(requires)]
    extra = {} if graphql_type is None else {"graphql_type": graphql_type}
    return cast(
        "Callable[[F], F]",
        strawberry.field(description=description, permission_classes=guard, **extra),
    )


def mutation(
    description: str, *, requires: Permission = Permission.MANAGE_SEGMENTS
) -> Callable[[F], F]:
    """`@strawberry.mutation(description=...)`, guarded and typed like `field`."""
    guard = [permissions.requires(requires)]
    return cast(
        "Callable[[F], F]", strawberry.mutation(description=description, permission_classes=guard)
    )


def subscription(
    description: str, *, requires: Permission = Permission.READ_SEGMENTS
) -> Callable[[F], F]:
    """`@strawberry.subscription(description=...)`, guarded and typed like `field`."""
    guard = [permissions.requires(requires)]
    return cast(
        "Callable[[F], F]",
        strawberry.subscription(description=description, permission_classes=guard),
    )
