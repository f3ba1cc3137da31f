"""Export queries: thin resolvers over the domain."""

from __future__ import annotations

import strawberry

from server.api.common import decode_gid, field
from server.api.context import Info
from server.api.errors import ApiError, ErrorCode
from server.api.exports import domain
from server.api.exports.types import Export, ExportConnection, export_connection


@strawberry.type
class ExportQueries:
    @field("Exports by name.")
    async def exports(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ExportConnection:
        page = await domain.list_exports(info.context.deps, first, after)
        return export_connection(page, after)

    @field("One export by global id or by name.")
    async def export(
        self, info: Info, id: strawberry.ID | None = None, name: str | None = None
    ) -> Export | None:
        if (id is None) == (name is None):
            raise ApiError(ErrorCode.BAD_USER_INPUT, "give exactly one of id and name")
        deps = info.context.deps
        if name is not None:
            found = await domain.by_name(deps, name)
        else:
            export_id = decode_gid(str(id), "Export")
            found = await domain.get(deps, export_id) if export_id else None
        return Export.of(found) if found else None
