"""The console's routes alone (no Neo4j needed): `/` redirects, `/console/` serves the build
with its security headers, and the hashed assets are served with long caching."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.console import console_routes


def client() -> TestClient:
    return TestClient(Starlette(routes=console_routes()))


def test_root_redirects_to_the_console() -> None:
    response = client().get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/console/"


def test_console_index_and_assets() -> None:
    c = client()
    index = c.get("/console/")
    assert index.status_code == 200
    assert "text/html" in index.headers["content-type"]
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert index.headers["cache-control"] == "no-cache"
    script = re.search(r'src="(/console/assets/[^"]+\.js)"', index.text)
    assert script is not None
    asset = c.get(script.group(1))
    assert asset.status_code == 200
    assert "javascript" in asset.headers["content-type"]
    assert "immutable" in asset.headers["cache-control"]
    assert c.get("/console/assets/missing.js").status_code == 404
