"""Field permissions: every root field names the permission it needs (`field(requires=...)`).

A refused field raises FORBIDDEN in `errors[]` with the field's path; the rest of the document
still runs, as GraphQL clients expect.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from server.access import Permission
from server.api.errors import ApiError, ErrorCode


@cache
def requires(permission: Permission) -> type[BasePermission]:
    """The permission class for `permission` (one class each: strawberry names them)."""

    def has_permission(self: BasePermission, source: Any, info: Any, **kwargs: Any) -> bool:
        return bool(info.context.principal.can(permission))

    def on_unauthorized(self: BasePermission) -> None:
        raise ApiError(ErrorCode.FORBIDDEN, f"your role lacks the {permission} permission")

    name = "Requires" + "".join(part.title() for part in permission.split("_"))
    namespace = {
        "has_permission": has_permission,
        "on_unauthorized": on_unauthorized,
        "permission": permission,
    }
    return type(name, (BasePermission,), namespace)


def required_permission(permission_classes: list[Any]) -> Permission | None:
    """The permission a field's classes demand (for the roles table and its test)."""
    for cls in permission_classes:
        found = getattr(cls, "permission", None)
        if isinstance(found, Permission):
            return found
    return None
