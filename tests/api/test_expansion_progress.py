"""An expansion's refresh reports its own phases (reading features, holdout, training, scoring)
between EVALUATING and DIFFING, with percent, on `refreshProgress`: a real arq worker runs the
refresh, a websocket on the real app watches it."""

from __future__ import annotations

from itertools import groupby

import neo4j

from server.refresh.records import RunStatus
from server.settings import Settings
from tests.api.conftest import Api
from tests.api.test_expansion import expand, refresh, seed, source_segment
from tests.api.test_progress_subscription import (
    PROTOCOL,
    next_event,
    queued,  # noqa: F401 (a fixture)
    run_worker_once,
    subscribe,
)
from tests.api.test_refresh_requests import REFRESH

ORDER = ["QUEUED", "CLAIMING", "EVALUATING", "READING_FEATURES", "HOLDOUT", "TRAINING",
         "SCORING", "DIFFING", "WRITING", "SWITCHING", "DONE"]  # fmt: skip
OWN = ["READING_FEATURES", "HOLDOUT", "TRAINING", "SCORING"]


def test_an_expansion_refresh_streams_its_phases_in_order(
    queued: tuple[Api, str],  # noqa: F811
    empty_graph: neo4j.Driver,
    settings: Settings,
) -> None:
    api, redis_url = queued
    seed(empty_graph)
    made = expand(api, name="like_src", source=source_segment(api)["id"])
    assert made["userErrors"] == []
    assert [o.status for o in refresh(settings, "src")] == [RunStatus.SUCCESSFUL]
    segment_id = made["segment"]["id"]
    with api.client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json()["type"] == "connection_ack"
        subscribe(ws, {"ids": [segment_id]})
        api.data(REFRESH, ids=[segment_id])
        events = [next_event(ws)]
        run_worker_once(redis_url)
        while events[-1]["phase"] != "DONE":
            events.append(next_event(ws))
        ws.send_json({"id": "1", "type": "complete"})
    assert {e["segmentId"] for e in events} == {segment_id}
    phases = [p for p, _ in groupby(e["phase"] for e in events)]
    assert phases == ORDER  # every phase, each once, none going back
    for phase in OWN:
        percents = [e["percent"] for e in events if e["phase"] == phase]
        assert percents == sorted(percents), (phase, percents)
        assert percents[0] < 100, (phase, percents)
        assert percents[-1] == 100, (phase, percents)
        assert all(e["status"] == "REFRESHING" for e in events if e["phase"] == phase)
    training = [e["percent"] for e in events if e["phase"] == "TRAINING"]
    assert len(training) >= 3  # one step per fold model, not just the ends
    last = events[-1]
    assert (last["percent"], last["status"]) == (100, "SUCCESSFUL")
    assert last["memberCount"] > 0
