"""`GET /segments/{id}/members.csv?columns=a,b`: every member of the active version, streamed
in keyset batches so memory stays constant however large the segment. Columns and cells follow
`server.members_table` (formula-safe cells), as exports do.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from graph_schema.model import Entity
from server.api.common import decode_gid
from server.members_table import resolve_columns, safe_cell
from server.store import Db
from server.store.members import member_batches
from server.store.segments import get_segments

BATCH = 2000


def pick_columns(entity: Entity, asked: str | None) -> list[str] | None:
    """Attribute names in the schema's spelling; None when one is unknown."""
    names = [name for name in (asked or "").split(",") if name.strip()]
    columns = resolve_columns(entity, names or None)
    return None if columns.unknown else list(columns.names)


async def _rows(db: Db, segment_id: str, columns: list[str]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["key", *columns])
    async for batch in member_batches(db, segment_id, BATCH):
        for m in batch:
            writer.writerow([safe_cell(m.key), *(safe_cell(m.properties.get(c)) for c in columns)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


async def members_csv(request: Request) -> Response:
    segment_id = decode_gid(request.path_params["id"], "Segment")
    db: Db = request.state.db
    found = (await get_segments(db, [segment_id]))[0] if segment_id else None
    if found is None:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
    entity = request.state.graph.require_entity(found.audience)
    columns = pick_columns(entity, request.query_params.get("columns"))
    if columns is None:
        return JSONResponse({"error": "UNKNOWN_COLUMN"}, status_code=400)
    headers = {"content-disposition": f'attachment; filename="{found.name}.csv"'}
    return StreamingResponse(
        _rows(db, found.id, columns), media_type="text/csv; charset=utf-8", headers=headers
    )
