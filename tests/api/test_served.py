"""The API as users run it: `segments serve` in its own process (uvicorn), over real HTTP and a
real websocket. The other API tests call the app in process, which needs no server and no
websocket library, so only this catches a served app that cannot speak graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import neo4j
import pytest
import websockets

from server.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "AUTH_REQUIRED": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"http://{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("`segments serve` did not become ready in 60 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


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
