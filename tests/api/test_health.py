"""Liveness, readiness (Neo4j and Redis reachable) and Prometheus metrics."""

from __future__ import annotations

import neo4j

from server.settings import Settings
from tests.api.conftest import Api, running


def test_healthz_and_readyz(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"neo4j": "ok", "redis": "ok"}}


def test_readyz_reports_an_unreachable_redis(empty_graph: neo4j.Driver, settings: Settings) -> None:
    with running(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})) as app:
        response = app.client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["neo4j"] == "ok"
        assert checks["redis"] != "ok"


def test_readyz_reports_an_unreachable_neo4j(settings: Settings) -> None:
    with running(settings.model_copy(update={"neo4j_uri": "neo4j://127.0.0.1:1"})) as app:
        response = app.client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["neo4j"] != "ok"
        assert app.client.get("/healthz").status_code == 200  # alive, just not ready


def test_metrics(api: Api) -> None:
    api.data("{ segments { totalCount } }")
    text = api.client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/graphql",status="200"}' in text
    assert "http_request_duration_seconds_bucket" in text
