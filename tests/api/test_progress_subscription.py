"""`refreshProgress` over graphql-transport-ws: a real refresh by a real arq worker, watched
from a websocket on the real app; keys in `connection_init` when keys are required."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import neo4j
import pytest
import redis
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from server.refresh.config import RefreshSettings
from server.settings import Settings
from server.worker import refresh_functions, shutdown, startup
from tests.api.conftest import Api, as_key, create_ok, key_for, running
from tests.api.test_refresh_requests import REFRESH, own_database

PROTOCOL = ["graphql-transport-ws"]
SUBSCRIBE = """
subscription($ids: [ID!]) {
  refreshProgress(segments: $ids) { segmentId jobId phase percent status memberCount reason }
}
"""


@pytest.fixture
def queued(
    empty_graph: neo4j.Driver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Api, str]]:
    url = own_database(settings.redis_url)
    monkeypatch.setenv("REDIS_URL", url)  # the worker's startup reads the environment
    client = redis.Redis.from_url(url)
    client.flushdb()
    with running(settings.model_copy(update={"redis_url": url})) as api:
        yield api, url
    client.flushdb()
    client.close()


def run_worker_once(redis_url: str) -> None:
    """A real arq worker in burst mode: runs what is queued, then stops."""

    async def main() -> None:
        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        worker = Worker(
            functions=refresh_functions(RefreshSettings()), redis_pool=pool, burst=True,
            poll_delay=0.05, handle_signals=False, on_startup=startup, on_shutdown=shutdown,
        )  # fmt: skip
        try:
            await worker.main()
        finally:
            await shutdown(worker.ctx)
            await pool.aclose()

    asyncio.run(main())


def subscribe(ws: WebSocketTestSession, variables: dict[str, Any]) -> None:
    ws.send_json({"id": "1", "type": "subscribe",
                  "payload": {"query": SUBSCRIBE, "variables": variables}})  # fmt: skip


def next_event(ws: WebSocketTestSession) -> dict[str, Any]:
    message = ws.receive_json()
    assert message["type"] == "next", message
    event: dict[str, Any] = message["payload"]["data"]["refreshProgress"]
    return event


def test_progress_of_a_real_refresh_streams_in_order(
    queued: tuple[Api, str], empty_graph: neo4j.Driver
) -> None:
    api, redis_url = queued
    empty_graph.execute_query(
        "UNWIND range(1, 30) AS i CREATE (:Customer {customerId: 'c' + i, "
        "city: CASE WHEN i <= 12 THEN 'Oslo' ELSE 'Rome' END})"
    )
    seg = create_ok(api, name="oslo")
    with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        subscribe(ws, {"ids": [seg["id"]]})
        job = api.data(REFRESH, ids=[seg["id"]])["refreshSegments"]["jobId"]
        first = next_event(ws)
        assert (first["phase"], first["status"], first["jobId"]) == ("QUEUED", "QUEUED", job)
        run_worker_once(redis_url)
        phases = [first["phase"]]
        while phases[-1] != "DONE":
            event = next_event(ws)
            assert event["segmentId"] == seg["id"]
            phases.append(event["phase"])
        assert event["status"] == "SUCCESSFUL"
        assert event["memberCount"] == 12
        order = ["QUEUED", "CLAIMING", "EVALUATING", "DIFFING", "WRITING", "SWITCHING", "DONE"]
        assert [p for p in order if p in phases] == list(dict.fromkeys(phases))
        ws.send_json({"id": "1", "type": "complete"})
    # A late subscriber gets the latest state at once.
    with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send_json({"type": "connection_init"})
        ws.receive_json()
        subscribe(ws, {"ids": [seg["id"]]})
        latest = next_event(ws)
        assert (latest["phase"], latest["status"]) == ("DONE", "SUCCESSFUL")


def test_sockets_need_a_key_when_keys_are_required(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    with running(settings) as dev:
        viewer = key_for(dev, "VIEWER")
    with running(settings.model_copy(update={"auth_required": True})) as api:
        with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
            ws.send_json({"type": "connection_init"})
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4403
        with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
            ws.send_json({"type": "connection_init", "payload": {"apiKey": "seg_x_y"}})
            with pytest.raises(WebSocketDisconnect):
                ws.receive_json()
        with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
            ws.send_json({"type": "connection_init",
                          "payload": {"authorization": f"Bearer {viewer}"}})  # fmt: skip
            assert ws.receive_json()["type"] == "connection_ack"
            subscribe(ws, {"ids": []})
            ws.send_json({"id": "1", "type": "complete"})
        assert as_key(api, viewer).data("{ viewer { role } }")["viewer"]["role"] == "VIEWER"
