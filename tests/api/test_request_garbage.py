"""A request's objects are freed when it ends, by reference counting: none is left in a
reference cycle for the collector (under load such leftovers piled up between full
collections, and each full collection stopped the event loop for seconds)."""

from __future__ import annotations

import gc
from collections import Counter

import neo4j
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from server.api.context import Context
from server.api.execution import AcyclicExecutionContext
from tests.api.conftest import Api, create_ok
from tests.api.test_members import MEMBERS, seed_customers

# The server side's objects (the test client's own, on the same thread, are not ours).
LEFT_BEHIND = (Context, AcyclicExecutionContext, Request, DataLoader)


def _cyclic_garbage(api: Api, segment_id: str, requests: int) -> Counter[type]:
    gc.collect()
    gc.disable()
    try:
        for _ in range(requests):
            api.data(MEMBERS, id=segment_id, after=None)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return Counter(kind for o in gc.garbage for kind in LEFT_BEHIND if isinstance(o, kind))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_requests_leave_no_cyclic_garbage(api: Api, empty_graph: neo4j.Driver) -> None:
    seed_customers(empty_graph, 3)
    seg = create_ok(api, name="g", type="STATIC", definition=None)
    _cyclic_garbage(api, seg["id"], 2)  # first requests fill caches that live on
    found = _cyclic_garbage(api, seg["id"], 20)
    assert {kind: found[kind] for kind in LEFT_BEHIND} == dict.fromkeys(LEFT_BEHIND, 0)
