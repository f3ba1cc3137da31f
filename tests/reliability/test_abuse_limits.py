"""Abuse limits, in bulk: many variants of each abusive request (depth, aliases also through
fragments, tokens, page size, batches, body size, introspection in production, subscription
flood, a websocket without `connection_init`) and the share refused with its code.
tests/api/test_limits.py has one example of each; this counts variants and records figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import neo4j
import pytest
from starlette.websockets import WebSocketDisconnect

from server.settings import Settings
from tests.api.conftest import Api, create_ok, running
from tests.reliability.figures import record

pytestmark = pytest.mark.services

TEST = "Abuse limits"
DEPTH, ALIASES, TOKENS, PAGE, BYTES = 3, 5, 300, 3, 20_000
PROTOCOL = ["graphql-transport-ws"]


@pytest.fixture
def strict(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    limits = {
        "graphql_max_depth": DEPTH, "graphql_max_aliases": ALIASES, "graphql_max_tokens": TOKENS,
        "max_page_size": PAGE, "max_request_bytes": BYTES,
    }  # fmt: skip
    with running(settings.model_copy(update=limits)) as client:
        yield client


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in body.get("errors") or []]


def tally(what: str, cases: list[Any], refused: Callable[[Any], bool], code: str) -> None:
    missed = [c for c in cases if not refused(c)]
    share = 100 * (len(cases) - len(missed)) / len(cases)
    record(TEST, what, len(cases), f"{share:.0f}% refused with {code}", f"100% refused with {code}",
           not missed)  # fmt: skip
    assert not missed, missed[:3]


def deep_documents() -> list[str]:
    base = "{ segments { edges { node { definition { version } } } } }"  # 4 below the root
    docs = [base]
    docs += [
        "{ segments { ...A } } fragment A on SegmentConnection { edges { ...B } } "
        "fragment B on SegmentEdge { node { definition { version } } }",
        "query Q { segments { edges { node { ...D } } } } fragment D on Segment { definition "
        "{ version } }",
    ]
    for extra in range(1, 25):
        filler = " ".join(f"f{i}: totalCount" for i in range(min(extra, 3)))
        docs.append("{ segments { " + filler + " edges { node { definition { valid version "
                    "diagnostics { code span { line column } } } } } } }")  # fmt: skip
    return docs


def test_depth(strict: Api) -> None:
    tally("query depth (plain and through fragments)", deep_documents(),
          lambda d: set(codes(strict.gql(d))) == {"QUERY_TOO_DEEP"}, "QUERY_TOO_DEEP")  # fmt: skip
    assert "errors" not in strict.gql("{ segments { edges { node { name } } } }")


def alias_documents() -> list[str]:
    docs = []
    for count in range(ALIASES + 1, ALIASES + 16):
        plain = " ".join(f"a{i}: segments {{ totalCount }}" for i in range(count))
        docs.append("{ " + plain + " }")
        half = count // 2
        spread = " ".join(f"b{i}: segments {{ totalCount }}" for i in range(count - half))
        direct = " ".join(f"a{i}: segments {{ totalCount }}" for i in range(half))
        docs.append(f"{{ {direct} ...F }} fragment F on Query {{ {spread} }}")
        # nested fragments, each spread twice: aliases count per use
        docs.append(f"{{ ...G ...G }} fragment G on Query {{ ...H }} fragment H on Query "
                    f"{{ {spread} {direct} }}")  # fmt: skip
    return docs


def test_aliases(strict: Api) -> None:
    tally("aliases (plain, through fragments, nested fragments)", alias_documents(),
          lambda d: set(codes(strict.gql(d))) == {"TOO_MANY_ALIASES"},
          "TOO_MANY_ALIASES")  # fmt: skip


def test_tokens(strict: Api) -> None:
    docs = ["{ " + " ".join("segments { totalCount }" for _ in range(n)) + " }"
            for n in range(80, 400, 20)]  # fmt: skip
    docs += ["{ __typename " + "# x\n" * 10 + " ".join(["__typename"] * n) + " }"
             for n in range(TOKENS, TOKENS * 2, 50)]  # fmt: skip
    tally("tokens", docs, lambda d: set(codes(strict.gql(d))) == {"TOO_MANY_TOKENS"},
          "TOO_MANY_TOKENS")  # fmt: skip


def test_page_size(strict: Api, settings: Settings) -> None:
    with running(settings) as dev:  # the strict app's limits refuse createSegment's document
        for i in range(PAGE + 2):
            create_ok(dev, name=f"s{i}")
    too_big = [PAGE + 1, 100, 10_000, 2**31 - 1]
    pages = [strict.data(f"{{ segments(first: {n}) {{ edges {{ node {{ id }} }} }} }}")
             for n in too_big]  # fmt: skip
    clamped = all(len(p["segments"]["edges"]) == PAGE for p in pages)
    record(TEST, f"page size above the maximum ({PAGE})", len(too_big),
           "clamped to the maximum" if clamped else "not clamped", "at most the maximum returned",
           clamped)  # fmt: skip
    assert clamped
    negative = [-1, -100, -(2**31)]
    tally("negative page size", negative,
          lambda n: codes(strict.gql(f"{{ segments(first: {n}) {{ totalCount }} }}"))
          == ["BAD_USER_INPUT"], "BAD_USER_INPUT")  # fmt: skip


def test_batches_and_body_size(strict: Api) -> None:
    client = strict.client
    batches = [[{"query": "{ viewer { role } }"}] * n for n in (1, 2, 10, 100)]
    tally("batched operations (JSON array)", batches,
          lambda b: client.post("/graphql", json=b).status_code == 400, "HTTP 400")  # fmt: skip
    bodies = [BYTES + 1, BYTES * 2, BYTES * 100]
    tally("body size (Content-Length)", bodies,
          lambda n: client.post("/graphql", json={"query": "{ viewer { role } }" + " " * n})
          .status_code == 413, "HTTP 413")  # fmt: skip

    def chunks(n: int) -> Iterator[bytes]:
        yield b'{"query": "{ viewer { role } }'
        for _ in range(n // 1000):
            yield b" " * 1000
        yield b'"}'

    tally("body size (chunked, no Content-Length)", bodies,
          lambda n: client.post("/graphql", content=chunks(n),
                                headers={"content-type": "application/json"}).status_code == 413,
          "HTTP 413")  # fmt: skip


INTROSPECTION = [
    "{ __schema { queryType { name } } }",
    '{ __type(name: "Query") { fields { name } } }',
    "{ s: __schema { types { name } } }",
    "{ ...F } fragment F on Query { __schema { types { name } } }",
    "query { viewer { role } __schema { directives { name } } }",
    '{ __type(name: "Segment") { name } }',
    "query I { __schema { mutationType { fields { name args { name } } } } }",
]


def test_introspection_in_production(empty_graph: neo4j.Driver, settings: Settings) -> None:
    with running(settings.model_copy(update={"production": True, "auth_required": False})) as p:
        tally("introspection in production", INTROSPECTION,
              lambda d: "GRAPHQL_VALIDATION_FAILED" in codes(p.gql(d)),
              "GRAPHQL_VALIDATION_FAILED")  # fmt: skip
        assert p.gql("{ __typename }")["data"] == {"__typename": "Query"}


SUBSCRIBE = "subscription { refreshProgress { segmentId } }"


def test_websocket_without_init(api: Api) -> None:
    messages = [
        {"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIBE}},
        {"type": "subscribe", "id": "2", "payload": {"query": "{ viewer { role } }"}},
        {"type": "ping"},  # a ping is allowed before init: then a subscribe must still fail
    ]

    def refused(message: dict[str, Any]) -> bool:
        with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
            ws.send_json(message)
            if message["type"] == "ping":
                assert ws.receive_json()["type"] == "pong"
                ws.send_json(messages[0])
            try:
                reply = ws.receive()
            except WebSocketDisconnect as exc:
                return exc.code == 4401
            return reply.get("type") == "websocket.close" and reply.get("code") == 4401

    tally("websocket subscribe without connection_init", messages, refused, "close 4401")


def test_subscription_flood(api: Api) -> None:
    """One socket opening subscriptions without end: past strawberry's 100 per connection each
    new one is refused with TOO_MANY_SUBSCRIPTIONS."""
    flood = 150
    with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        for i in range(flood):
            ws.send_json({"type": "subscribe", "id": str(i), "payload": {"query": SUBSCRIBE}})
        ws.send_json({"type": "ping"})
        refused = []
        while (message := ws.receive_json())["type"] != "pong":
            if message["type"] == "error":
                refused += [e.get("extensions", {}).get("code") for e in message["payload"]]
    over = flood - 100
    ok = refused == ["TOO_MANY_SUBSCRIPTIONS"] * over
    coded = refused.count("TOO_MANY_SUBSCRIPTIONS")
    record(TEST, "subscription flood (150 on one socket)", over,
           f"{len(refused)} of {over} over the limit refused, {coded} with TOO_MANY_SUBSCRIPTIONS",
           "100% refused with TOO_MANY_SUBSCRIPTIONS", ok)  # fmt: skip
    assert ok


@pytest.fixture
def api(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    with running(settings) as client:
        yield client
