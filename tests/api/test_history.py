"""Runs, trend and weekly growth read from the refresh engine's `_SegmentRun` records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import neo4j

from tests.api.conftest import Api, create_ok
from tests.api.test_members import node_id

HISTORY = """
query($id: ID!, $from: DateTime!, $to: DateTime!) {
  segment(id: $id) {
    runs(first: 10) { status definitionVersion membershipVersion memberCount enteredCount }
    trend(from: $from, to: $to) { memberCount membershipVersion }
    weeklyGrowth { current previous delta }
  }
}
"""


def test_runs_trend_and_growth(api: Api, empty_graph: neo4j.Driver) -> None:
    seg = create_ok(api, name="oslo")
    now = datetime.now(UTC)
    runs = [  # (days ago, version, member count, status)
        (20, 1, 100, "SUCCESSFUL"), (9, 2, 120, "SUCCESSFUL"), (3, None, None, "FAILED"),
        (1, 3, 150, "SUCCESSFUL"),
    ]  # fmt: skip
    empty_graph.execute_query(
        "MATCH (s:_Segment {id: $id}) UNWIND $runs AS run "
        "CREATE (s)-[:_HAS_RUN]->(:_SegmentRun {id: randomUUID(), segmentId: s.id, "
        "  status: run.status, version: run.version, definitionVersion: 1, trigger: 'SCHEDULE', "
        "  now: run.at, startedAt: run.at, finishedAt: run.at, memberCount: run.n, "
        "  enteredCount: 5})",
        id=node_id(seg["id"]),
        runs=[
            {"at": now - timedelta(days=d), "version": v, "n": n, "status": st}
            for d, v, n, st in runs
        ],
    )
    window = {"from": (now - timedelta(days=10)).isoformat(), "to": now.isoformat()}
    found = api.data(HISTORY, id=seg["id"], **window)["segment"]
    assert [r["status"] for r in found["runs"]] == [
        "SUCCESSFUL",
        "FAILED",
        "SUCCESSFUL",
        "SUCCESSFUL",
    ]
    assert found["runs"][0]["membershipVersion"] == 3
    assert found["trend"] == [
        {"memberCount": 120, "membershipVersion": 2},
        {"memberCount": 150, "membershipVersion": 3},
    ]
    assert found["weeklyGrowth"] == {"current": 150, "previous": 120, "delta": 30}


def test_no_history_yet(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    window = {"from": "2020-01-01T00:00:00Z", "to": "2030-01-01T00:00:00Z"}
    found = api.data(HISTORY, id=seg["id"], **window)["segment"]
    assert found == {"runs": [], "trend": [], "weeklyGrowth": None}
