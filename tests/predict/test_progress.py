"""`leadModelProgress` over graphql-transport-ws: a real training by a real arq worker,
watched from a websocket on the real app."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import neo4j

from server.settings import Settings
from tests.api.conftest import running
from tests.predict.conftest import drain, import_demo, write_lead_schema
from tests.predict.test_api import CREATE, PREDICT, TRAIN, _flush

PROTOCOL = ["graphql-transport-ws"]
SUBSCRIBE = """subscription($id: ID!) {
  leadModelProgress(id: $id) { leadModel kind phase percent version error } }"""
ORDER = ["READING", "EXTRACTING", "TRAINING", "COMPARING", "SAVING", "DONE"]


def test_training_progress_streams_in_order(
    empty_graph: neo4j.Driver, settings: Settings, tmp_path: Path
) -> None:
    schema = settings.model_copy(update={"schema_file": write_lead_schema(tmp_path)})
    asyncio.run(_flush(schema))
    import_demo(empty_graph, tmp_path / "leads_schema.yaml", tmp_path / "demo", 800)
    with running(schema) as api:
        made = api.data(CREATE, input={"name": "watched", "definition": PREDICT})
        gid = made["createLeadModel"]["leadModel"]["id"]
        with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json()["type"] == "connection_ack"
            ws.send_json({"id": "1", "type": "subscribe",
                          "payload": {"query": SUBSCRIBE, "variables": {"id": gid}}})  # fmt: skip
            time.sleep(0.5)  # the server subscribes to Redis before the job starts
            api.data(TRAIN, id=gid)
            drain(schema)
            events: list[dict[str, Any]] = []
            while not events or events[-1]["phase"] not in ("DONE", "FAILED"):
                message = ws.receive_json()
                assert message["type"] == "next", message
                events.append(message["payload"]["data"]["leadModelProgress"])
            ws.send_json({"id": "1", "type": "complete"})
    phases = [e["phase"] for e in events]
    assert phases[0] == "READING"
    assert [ORDER.index(p) for p in phases] == sorted(ORDER.index(p) for p in phases)
    assert set(ORDER) <= set(phases)
    extracting = [e["percent"] for e in events if e["phase"] == "EXTRACTING"]
    assert extracting == sorted(extracting)
    assert extracting[-1] == 100
    assert events[-1] == {"leadModel": gid, "kind": "TRAIN", "phase": "DONE", "percent": 100,
                          "version": 1, "error": None}  # fmt: skip
