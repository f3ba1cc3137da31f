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


CHANGES = """
query($id: ID!) {
  segment(id: $id) {
    runs(first: 10) { membershipVersion entered exited firstEntered: entered(first: 1) }
  }
}
"""


def test_who_entered_and_left_in_each_run(api: Api, empty_graph: neo4j.Driver) -> None:
    seg = create_ok(api, name="oslo")
    now = datetime.now(UTC)
    # Version 1: c1, c2 entered. Version 2: c1 left, c3 and c4 entered. A failed run wrote none.
    empty_graph.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 2, s.versionSeq = 2 "
        "WITH s UNWIND $runs AS run "
        "CREATE (s)-[:_HAS_RUN]->(:_SegmentRun {id: randomUUID(), segmentId: s.id, "
        "  status: run.status, version: run.version, definitionVersion: 1, trigger: 'MANUAL', "
        "  now: run.at, startedAt: run.at, finishedAt: run.at}) "
        "WITH DISTINCT s UNWIND $members AS m "
        "CREATE (p:Customer {customerId: m.key}) "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: m.key, since: m.since, until: m.until}]->(p)",
        id=node_id(seg["id"]),
        runs=[
            {"at": now - timedelta(hours=3), "version": 1, "status": "SUCCESSFUL"},
            {"at": now - timedelta(hours=2), "version": None, "status": "FAILED"},
            {"at": now - timedelta(hours=1), "version": 2, "status": "SUCCESSFUL"},
        ],
        members=[
            {"key": "c1", "since": 1, "until": 2},
            {"key": "c2", "since": 1, "until": None},
            {"key": "c4", "since": 2, "until": None},
            {"key": "c3", "since": 2, "until": None},
        ],
    )
    found = api.data(CHANGES, id=seg["id"])["segment"]["runs"]
    assert found == [
        {"membershipVersion": 2, "entered": ["c3", "c4"], "exited": ["c1"], "firstEntered": ["c3"]},
        {"membershipVersion": None, "entered": [], "exited": [], "firstEntered": []},
        {"membershipVersion": 1, "entered": ["c1", "c2"], "exited": [], "firstEntered": ["c1"]},
    ]
