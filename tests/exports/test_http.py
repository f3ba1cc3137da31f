"""HTTP_JSONL destinations: every member arrives as one JSON line, in chunks named by headers;
5xx answers are retried, a refusal fails the run with its error."""

from __future__ import annotations

import json

import neo4j

from server.settings import Settings
from tests.api.conftest import Api, create_ok
from tests.exports.conftest import (
    add_members,
    create_export_ok,
    drain,
    export_by_name,
    people,
    run_ok,
)
from tests.exports.receiver import receiving


def test_all_rows_arrive_as_json_lines_despite_a_500(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings
) -> None:
    oslo = create_ok(api, name="oslo")
    crowd = people("c", 1500)
    add_members(empty_graph, oslo["id"], crowd)
    with receiving() as receiver:
        receiver.statuses = [500]  # the first chunk fails once, then is accepted
        export = create_export_ok(
            api, name="crm", segmentIds=[oslo["id"]], columns=["name", "satisfaction"],
            destination={"kind": "HTTP_JSONL", "url": receiver.url,
                         "headers": [{"name": "Authorization", "value": "Bearer t"}]},
        )  # fmt: skip
        run_ok(api, export["id"])
        drain(export_settings, batch_size=700)

    [run] = export_by_name(api, "crm")["runs"]
    assert (run["status"], run["error"], run["rows"]) == ("SUCCEEDED", None, 1500)
    assert run["segments"][0]["file"] is None
    assert [r.status for r in receiver.requests] == [500, 200, 200, 200]
    accepted = receiver.accepted
    assert [r.headers["x-export-chunk"] for r in accepted] == ["0", "1", "2"]
    for r in accepted:
        assert r.headers["content-type"] == "application/x-ndjson"
        assert r.headers["authorization"] == "Bearer t"
        assert (r.headers["x-export-name"], r.headers["x-export-segment"]) == ("crm", "oslo")
    lines = [json.loads(line) for r in accepted for line in r.body.decode().splitlines()]
    assert lines == [
        {"key": p["customerId"], "name": p["name"], "satisfaction": p["satisfaction"]}
        for p in crowd
    ]


def test_a_refusing_endpoint_fails_the_run_with_its_error(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings
) -> None:
    oslo = create_ok(api, name="oslo")
    add_members(empty_graph, oslo["id"], people("c", 10))
    with receiving() as receiver:
        receiver.always = 400
        hook = {"kind": "HTTP_JSONL", "url": receiver.url}
        export = create_export_ok(api, name="crm", segmentIds=[oslo["id"]], destination=hook)
        run_ok(api, export["id"])
        drain(export_settings)
    found = export_by_name(api, "crm")
    [run] = found["runs"]
    assert (run["status"], run["error"]) == ("FAILED", "DeliveryFailed: chunk 0: HTTP 400")
    assert len(receiver.requests) == 1  # a 4xx is not retried
    assert found["status"] == "FAILED"


def test_a_failing_endpoint_is_retried_then_given_up(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings
) -> None:
    oslo = create_ok(api, name="oslo")
    add_members(empty_graph, oslo["id"], people("c", 10))
    with receiving() as receiver:
        receiver.always = 503
        hook = {"kind": "HTTP_JSONL", "url": receiver.url}
        export = create_export_ok(api, name="crm", segmentIds=[oslo["id"]], destination=hook)
        run_ok(api, export["id"])
        drain(export_settings)
    [run] = export_by_name(api, "crm")["runs"]
    assert (run["status"], run["error"]) == (
        "FAILED",
        "DeliveryFailed: chunk 0: HTTP 503 after 3 tries",
    )
    assert len(receiver.requests) == 3
