"""`GET /segments/{id}/members.csv?columns=a,b`: every member of the active version, streamed
in keyset batches so memory stays constant however large the segment. Columns and cells follow
`server.members_table` (formula-safe cells), as exports do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from graph_schema.model import Entity
from server.access import Permission, mask_value, pii_columns
from server.api.auth import (
    Unauthenticated,
    forbidden_response,
    identify_headers,
    unauthenticated_response,
)
from server.api.common import decode_gid
from server.members_table import resolve_columns, safe_cell, unknown_column
from server.settings import Settings
from server.store import Db
from server.store.members import member_batches
from server.store.segments import get_segments

BATCH = 2000


def pick_columns(entity: Entity, asked: str | None) -> list[str] | str:
    """Attribute names in the schema's spelling, or why one asked is not a column."""
    names = [name for name in (asked or "").split(",") if name.strip()]
    columns = resolve_columns(entity, names or None)
    if columns.unknown:
        return " ".join(unknown_column(entity, names[i]) for i in columns.unknown)
    return list(columns.names)


def _cell(properties: dict[str, object], column: str, masked: frozenset[str]) -> str:
    value = properties.get(column)
    return safe_cell(mask_value(value) if column in masked else value)


async def _rows(
    db: Db, segment_id: str, columns: list[str], masked: frozenset[str]
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["key", *columns])
    async for batch in member_batches(db, segment_id, BATCH):
        for m in batch:
            writer.writerow([safe_cell(m.key), *(_cell(m.properties, c, masked) for c in columns)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def members_csv(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint: the caller needs READ_MEMBERS; PII cells are masked without READ_PII."""

    async def endpoint(request: Request) -> Response:
        db: Db = request.state.db
        try:
            principal = await identify_headers(db, settings, request.headers)
        except Unauthenticated as exc:
            return unauthenticated_response(exc)
        if not principal.can(Permission.READ_MEMBERS):
            return forbidden_response(f"your role lacks the {Permission.READ_MEMBERS} permission")
        segment_id = decode_gid(request.path_params["id"], "Segment")
        found = (await get_segments(db, [segment_id]))[0] if segment_id else None
        if found is None:
            return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
        entity = request.state.graph.require_entity(found.audience)
        columns = pick_columns(entity, request.query_params.get("columns"))
        if isinstance(columns, str):
            body = {"error": "UNKNOWN_COLUMN", "message": columns, "parameter": "columns"}
            return JSONResponse(body, status_code=400)
        masked = frozenset() if principal.reads_pii else pii_columns(entity, columns)
        disposition = {"content-disposition": f'attachment; filename="{found.name}.csv"'}
        return StreamingResponse(
            _rows(db, found.id, columns, masked),
            media_type="text/csv; charset=utf-8",
            headers=disposition,
        )

    return endpoint
