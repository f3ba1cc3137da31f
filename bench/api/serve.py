"""The real app plus a plain starlette JSON endpoint returning the same member rows from the
same store call: the difference between the two is what GraphQL costs.

    SCHEMA_FILE=bench/api/schema.yaml python -m bench.api.serve PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.app import create_app
from server.settings import get_settings
from server.store.members import list_members


async def plain_members(request: Request) -> Response:
    page = await list_members(
        request.state.db, request.path_params["id"], 100, request.query_params.get("after")
    )
    edges = [
        {"cursor": c, "node": {"key": m.key, "sinceVersion": m.since, "properties": m.properties}}
        for m, c in zip(page.items, page.cursors, strict=True)
    ]
    return JSONResponse({"edges": edges, "hasNextPage": page.has_next, "total": page.total})


def main() -> None:
    app = create_app(get_settings())
    app.router.routes.append(Route("/plain/members/{id}", plain_members))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")


if __name__ == "__main__":
    main()
