"""The API as users run it: `segments serve` in its own process (uvicorn), over real HTTP and a
real websocket. The other API tests call the app in process, which needs no server and no
websocket library, so only this catches a served app that cannot speak graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import neo4j
import pytest
import websockets

from server.settings import Settings
from tests.reliability import processes


@pytest.fixture
def served(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[str]:
    process, base_url = processes.serve({"AUTH_REQUIRED": "false"})
    try:
        yield base_url.removeprefix("http://")
    finally:
        process.stop()


def test_queries_over_http(served: str) -> None:
    body = httpx.post(
        f"http://{served}/graphql", json={"query": "{ segments(first: 5) { totalCount } }"}
    ).json()
    assert body == {"data": {"segments": {"totalCount": 0}}}


def test_subscriptions_over_a_real_websocket(served: str) -> None:
    async def talk() -> list[dict[str, object]]:
        async with websockets.connect(
            f"ws://{served}/graphql", subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send(json.dumps({
                "id": "1", "type": "subscribe",
                "payload": {"query": "subscription { refreshProgress { segmentId } }"},
            }))  # fmt: skip
            await ws.send(json.dumps({"id": "1", "type": "complete"}))
            await ws.send(json.dumps({"type": "ping"}))
            pong = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return [ack, pong]

    ack, pong = asyncio.run(talk())
    assert ack["type"] == "connection_ack"
    assert pong["type"] == "pong"


def test_several_api_processes_share_one_port_and_no_state(empty_graph: neo4j.Driver) -> None:
    """`serve --workers 2`: what one process stores, every process reads (the API keeps no
    state of its own), on fresh connections spread over both by the kernel."""
    process, base_url = processes.serve({"AUTH_REQUIRED": "false", "API_WORKERS": "2"})
    try:
        workers = processes.children(process)
        created = httpx.post(f"{base_url}/graphql", json={"query": """mutation {
            createSegment(input: {name: "shared", audience: "Customer",
                                  definition: {text: "segment Customer where city = \\"Oslo\\""}})
            { segment { id } userErrors { code } } }"""}).json()  # fmt: skip
        assert created["data"]["createSegment"]["userErrors"] == []
        seen = []
        for _ in range(20):
            with httpx.Client(base_url=base_url) as fresh:  # a new connection each time
                body = fresh.post("/graphql", json={"query": "{ segments { totalCount } }"})
                seen.append(body.json()["data"]["segments"]["totalCount"])
    finally:
        process.stop()
    assert len(workers) >= 2, workers
    assert seen == [1] * 20
