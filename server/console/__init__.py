"""The web console: the front-end built from `console/` (Vite + Preact), served at /console.

The built files are committed under `static/` so running the console needs no npm; the console
talks to the server only through the public GraphQL API and the members CSV download.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"

# Scripts and styles only from this origin; CodeMirror and uPlot set inline styles.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class ConsoleFiles(StaticFiles):
    """Static files with the console's security headers; hashed assets cache for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        if path.startswith("assets/") and response.status_code == 200:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        else:
            response.headers["cache-control"] = "no-cache"
        return response


async def to_console(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=307)


def console_routes() -> list[BaseRoute]:
    """`/` redirects to `/console/`, which serves the built front-end (absent build: no routes)."""
    if not (STATIC_DIR / "index.html").is_file():
        return []
    return [
        Route("/", to_console),
        Mount("/console", ConsoleFiles(directory=STATIC_DIR, html=True), name="console"),
    ]
