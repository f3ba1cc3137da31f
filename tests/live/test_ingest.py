"""Ingestion over the real app: per-record errors, idempotent upserts, JSON lines, roles, and
a change reaching a dynamic segment through a real arq worker."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import neo4j
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker

from server.live.queue import CHANGES
from server.refresh.config import RefreshSettings
from server.settings import Settings
from server.worker import live_functions, refresh_functions, shutdown, startup
from tests.api.conftest import Api, as_key, create_ok, key_for
from tests.api.test_members import CHANGE, REMOVE, members_page, seed_customers
from tests.api.test_splits import members

INGEST = """
mutation($records: [JSON!]!) {
  ingestRecords(records: $records) { accepted changed errors { index field code } }
}
"""


def counts(driver: neo4j.Driver) -> tuple[int, int, int]:
    found, _, _ = driver.execute_query(
        "RETURN COUNT { (:Customer) } AS c, COUNT { (:Order) } AS o, "
        "COUNT { (:Customer)-[:PLACED]->(:Order) } AS p"
    )
    return found[0]["c"], found[0]["o"], found[0]["p"]


BATCH: list[dict[str, Any]] = [
    {"type": "identify", "entity": "Customer", "key": "c1",
     "traits": {"city": "Oslo", "satisfaction": 90, "createdOn": "2024-02-29"}},
    {"type": "track", "entity": "Order", "key": "o1",
     "properties": {"total": 120, "placedAt": "2026-11-20T10:00:00+01:00"},
     "profile": {"entity": "Customer", "key": "c1"}},
    {"entity": "Customer", "key": "c2", "properties": {"city": "Rome"}},
]  # fmt: skip


def test_records_are_validated_one_by_one(api: Api, empty_graph: neo4j.Driver) -> None:
    bad = [
        {"entity": "Custmer", "key": "x"},
        {"entity": "Customer", "key": "c9", "properties": {"satisfaction": "high"}},
        {"entity": "Customer", "key": "c9", "properties": {"nope": 1}},
        {"entity": "Customer", "properties": {"city": "Oslo"}},
        {"type": "track", "entity": "Order", "key": "o9", "properties": {"total": 5}},
        {"type": "track", "entity": "Order", "key": "o9",
         "profile": {"entity": "Customer", "key": "ghost"}},
        {"entity": "Customer", "key": "ok", "properties": {"birthDate": "2024-02-30"}},
        {"entity": "Customer", "key": "fine", "properties": {"city": "Oslo"}},
        # Every independent mistake of one record, in the record's order.
        {"type": "track", "entity": "Order", "key": "o8",
         "properties": {"total": "lots", "totl": 1}, "profile": {"entity": "Customer"}},
    ]  # fmt: skip
    found = api.data(INGEST, records=bad)["ingestRecords"]
    assert [(e["index"], e["field"], e["code"]) for e in found["errors"]] == [
        (0, ["entity"], "UNKNOWN_ENTITY"),
        (1, ["properties", "satisfaction"], "TYPE_MISMATCH"),
        (2, ["properties", "nope"], "UNKNOWN_ATTRIBUTE"),
        (3, ["key"], "INVALID_RECORD"),
        (4, ["profile"], "INVALID_RECORD"),
        (5, ["profile", "key"], "NOT_FOUND"),  # where the record named it
        (6, ["properties", "birthDate"], "TYPE_MISMATCH"),
        (8, ["properties", "total"], "TYPE_MISMATCH"),
        (8, ["properties", "totl"], "UNKNOWN_ATTRIBUTE"),
        (8, ["profile", "key"], "INVALID_RECORD"),
    ]
    assert found["accepted"] == 1
    assert counts(empty_graph) == (1, 0, 0)  # only `fine`; the refused order left nothing


def test_a_retried_batch_changes_nothing(api: Api, empty_graph: neo4j.Driver) -> None:
    first = api.data(INGEST, records=BATCH)["ingestRecords"]
    assert (first["accepted"], first["errors"]) == (3, [])
    assert counts(empty_graph) == (2, 1, 1)
    api.data(INGEST, records=BATCH)
    assert counts(empty_graph) == (2, 1, 1)
    found, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer {customerId: 'c1'})-[:PLACED]->(o:Order) "
        "RETURN c.createdOn AS d, o.placedAt AS t, o.total AS total"
    )
    assert str(found[0]["d"]) == "2024-02-29"
    assert found[0]["t"].to_native().isoformat() == "2026-11-20T09:00:00+00:00"  # stored in UTC
    assert found[0]["total"] == 120.0
    api.data(INGEST, records=[{"entity": "Customer", "key": "c1", "properties": {"city": None}}])
    found, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer {customerId: 'c1'}) RETURN c.city AS city, c.satisfaction AS s"
    )
    assert (found[0]["city"], found[0]["s"]) == (None, 90)  # null removes; the rest stays


def test_json_lines_endpoint_and_roles(api: Api, empty_graph: neo4j.Driver) -> None:
    lines = "\n".join([json.dumps(BATCH[0]), "{not json", json.dumps(BATCH[2])])
    response = api.client.post("/ingest", content=lines)
    assert response.status_code == 207
    body = response.json()
    assert body["accepted"] == 2
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "INVALID_JSON")]
    marketer = as_key(api, key_for(api, "MARKETER"))
    refused = marketer.gql(INGEST, records=BATCH)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert api.client.post("/ingest", content=lines, headers=marketer.headers).status_code == 403


def test_a_change_reaches_a_dynamic_segment_through_a_worker(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    create_ok(api, name="oslo", definition={"text": "segment Customer where city = 'Oslo'"})
    create_ok(api, name="web_buyers",
              definition={"text": "segment Customer where any Order (total > 100)"})  # fmt: skip
    api.data(INGEST, records=BATCH)
    asyncio.run(_burst(settings))
    assert members(empty_graph, "oslo") == {"c1"}
    assert members(empty_graph, "web_buyers") == {"c1"}
    moved = [{"entity": "Customer", "key": "c2", "properties": {"city": "Oslo"}},
             {"entity": "Order", "key": "o1", "properties": {"total": 50.0}}]  # fmt: skip
    api.data(INGEST, records=moved)
    asyncio.run(_burst(settings))
    assert members(empty_graph, "oslo") == {"c1", "c2"}
    assert members(empty_graph, "web_buyers") == set()  # reached through the order's change


async def _burst(settings: Settings) -> None:
    """A real arq worker in burst mode on the configured Redis."""
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    worker = Worker(
        functions=[*refresh_functions(RefreshSettings()), *live_functions()],
        redis_pool=pool, burst=True, poll_delay=0.05, handle_signals=False,
        on_startup=startup, on_shutdown=shutdown,
    )  # fmt: skip
    try:
        await worker.main()
        assert await pool.llen(CHANGES) == 0  # type: ignore[misc]  # redis-py: sync-or-async
    finally:
        await shutdown(worker.ctx)
        await pool.aclose()


def test_membership_changes_stream_on_the_subscription(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    seg = create_ok(api, name="oslo", definition={"text": "segment Customer where city = 'Oslo'"})
    query = ("subscription($ids: [ID!]) { membershipChanges(segments: $ids) "
             "{ segmentId version entered exited } }")  # fmt: skip
    with api.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": query, "variables": {"ids": [seg["id"]]}}})  # fmt: skip
        api.data(INGEST, records=BATCH)
        asyncio.run(_burst(settings))
        event = ws.receive_json()["payload"]["data"]["membershipChanges"]
        assert event == {"segmentId": seg["id"], "version": 1, "entered": ["c1"], "exited": []}
        api.data(INGEST, records=[{"entity": "Customer", "key": "c1",
                                   "properties": {"city": "Rome"}}])  # fmt: skip
        asyncio.run(_burst(settings))
        event = ws.receive_json()["payload"]["data"]["membershipChanges"]
        assert (event["version"], event["entered"], event["exited"]) == (2, [], ["c1"])
        ws.send_json({"id": "1", "type": "complete"})


def test_deletes_remove_records_and_links_once(api: Api, empty_graph: neo4j.Driver) -> None:
    api.data(INGEST, records=BATCH)
    bad = [{"type": "delete", "entity": "Order", "key": "o1", "properties": {"total": 1}},
           {"type": "delete", "entity": "Ordr", "key": "o1"},
           {"type": "delete", "entity": "Order"}]  # fmt: skip
    found = api.data(INGEST, records=bad)["ingestRecords"]
    assert [(e["index"], e["field"], e["code"]) for e in found["errors"]] == [
        (0, ["properties"], "INVALID_RECORD"),
        (1, ["entity"], "UNKNOWN_ENTITY"),
        (2, ["key"], "INVALID_RECORD"),
    ]
    assert counts(empty_graph) == (2, 1, 1)
    delete = [{"type": "delete", "entity": "Order", "key": "o1"}]
    done = api.data(INGEST, records=delete)["ingestRecords"]
    assert (done["accepted"], done["changed"], done["errors"]) == (1, 2, [])  # o1 and c1
    assert counts(empty_graph) == (2, 0, 0)
    again = api.data(INGEST, records=delete)["ingestRecords"]
    assert (again["accepted"], again["changed"]) == (1, 0)  # already gone: nothing moves
    api.data(INGEST, records=[{"type": "delete", "entity": "Customer", "key": "c2"}])
    assert counts(empty_graph) == (1, 0, 0)


def test_deleting_profiles_keeps_member_counts_exact(api: Api, empty_graph: neo4j.Driver) -> None:
    """A live delete lowers the kept count of the segments whose active version held the
    profile, and only those: the count equals a recount of the active memberships."""
    seed_customers(empty_graph, 6)
    one, two = (create_ok(api, name=n, type="STATIC", definition=None) for n in ("one", "two"))
    api.data(CHANGE, id=one["id"], keys=["c0001", "c0002", "c0003", "c0004"])
    api.data(REMOVE, id=one["id"], keys=["c0004"])  # in an old version only
    api.data(CHANGE, id=two["id"], keys=["c0002", "c0005"])
    deletes = [{"type": "delete", "entity": "Customer", "key": k}
               for k in ("c0002", "c0003", "c0004", "c0006", "c0002")]  # fmt: skip
    assert api.data(INGEST, records=deletes)["ingestRecords"]["errors"] == []
    for seg, left in ((one, {"c0001"}), (two, {"c0005"})):
        page = members_page(api, seg["id"])
        assert members(empty_graph, seg["name"]) == left
        assert page["memberCount"] == page["members"]["totalCount"] == len(left)
