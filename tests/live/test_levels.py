"""A live change that concerns many segments: the segments of one dependency level switch
together, in one transaction (never some of them), after their inputs' switches, with a run
and a version each; the number of write transactions follows the levels, not the segments;
a segment left dirty by an aborted run takes the one-segment path and is cleaned on the way
(real Neo4j and Redis)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import neo4j

from server.refresh.graph import Graph, Tx
from server.settings import Settings
from tests.api.conftest import Api, create_ok
from tests.api.test_splits import members
from tests.live.rounds import customer, live_rig
from tests.live.test_incremental import truth

T = TypeVar("T")
LEVEL_0 = {
    "sat_20": "segment Customer where satisfaction >= 20",
    "sat_50": "segment Customer where satisfaction >= 50",
    "sat_80": "segment Customer where satisfaction >= 80",
    "oslo": "segment Customer where city = 'Oslo'",
}
LEVEL_1 = {"sat_50_oslo": "segment Customer where in segment sat_50 and in segment oslo"}
LEVEL_2 = {"top": "segment Customer where in segment sat_50_oslo or in segment sat_80"}
SEGMENTS = LEVEL_0 | LEVEL_1 | LEVEL_2


@dataclass(frozen=True, slots=True)
class Watched(Graph):
    """The real graph, noting every segment's active version after each write commits."""

    after_writes: list[dict[str, int]] = field(default_factory=list)

    async def write(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        done = await Graph.write(self, work)
        found = await self.read("MATCH (s:_Segment) RETURN s.name AS name, s.activeVersion AS v")
        self.after_writes.append({r["name"]: r["v"] for r in found})
        return done




def test_a_level_switches_together_after_its_inputs(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    for name, text in SEGMENTS.items():
        create_ok(api, name=name, definition={"text": text})
    moved = asyncio.run(_change(settings, [customer("c0", 90, "Oslo")]))
    for name, text in SEGMENTS.items():
        assert members(empty_graph, name) == truth(empty_graph, text, datetime.now(UTC)), name
    assert "c0" in members(empty_graph, "top")
    # Between two writes, the versions that moved are always a whole level, inputs first.
    assert moved.levels == [set(LEVEL_0), set(LEVEL_1), set(LEVEL_2)]
    assert moved.writes == 3 * 3  # per level: the claims, the diffs and switches, the garbage
    found, _, _ = empty_graph.execute_query(
        "MATCH (s:_Segment)-[:_HAS_RUN]->(r:_SegmentRun {trigger: 'LIVE'}) "
        "RETURN s.name AS name, r.status AS status, r.version AS version, "
        "  r.baseVersion AS base, r.enteredCount AS entered, r.finishedAt.epochMillis AS at, "
        "  s.activeVersion AS active"
    )
    runs = {r["name"]: r for r in found}
    assert set(runs) == set(SEGMENTS)
    for name, run in runs.items():
        assert run["status"] == "SUCCESSFUL", name
        assert run["version"] == run["active"] == run["base"] + 1, name
        assert run["entered"] == 1, name
    assert len({runs[name]["at"] for name in LEVEL_0}) == 1  # one transaction, one instant
    assert runs["sat_50_oslo"]["at"] > runs["oslo"]["at"]
    assert runs["top"]["at"] > runs["sat_50_oslo"]["at"]


def test_a_dirty_segment_takes_the_one_segment_path_and_is_cleaned(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    for name, text in LEVEL_0.items():
        create_ok(api, name=name, definition={"text": text})
    # An aborted run of sat_20 left a version past the active one, with c9 entering in it.
    setup = [customer("c9", 5, "Rome")]
    asyncio.run(_change(settings, [customer("c1", 30, "Rome")], setup=setup, dirty="sat_20"))
    for name, text in LEVEL_0.items():
        assert members(empty_graph, name) == truth(empty_graph, text, datetime.now(UTC)), name
    assert "c9" not in members(empty_graph, "sat_20")
    assert "c1" in members(empty_graph, "sat_20")


@dataclass
class _Moved:
    levels: list[set[str]]
    writes: int


async def _change(
    settings: Settings, records: list[dict[str, Any]],
    setup: list[dict[str, Any]] | None = None, dirty: str | None = None,
) -> _Moved:  # fmt: skip
    async with live_rig(settings, Watched, setup) as rig:
        graph = rig.graph
        if dirty is not None:
            await _leave_aborted_version(graph, dirty, "c9")
        graph.after_writes.clear()
        before = await graph.read("MATCH (s:_Segment) RETURN s.name AS name, s.activeVersion AS v")
        graph.after_writes.append({r["name"]: r["v"] for r in before})
        await rig.change(records)
        seen = graph.after_writes
        levels = [
            {n for n in new if new[n] != old.get(n)}
            for old, new in itertools.pairwise(seen)
        ]
        return _Moved([m for m in levels if m], len(seen) - 1)


async def _leave_aborted_version(graph: Graph, name: str, key: str) -> None:
    async def work(tx: Tx) -> int:
        found = await tx.run(
            "MATCH (s:_Segment {name: $name}), (c:Customer {customerId: $key}) "
            "SET s.versionSeq = s.activeVersion + 1 "
            "CREATE (s)-[:_MEMBER {segmentId: s.id, key: $key, since: s.activeVersion + 1}]->(c) "
            "RETURN count(*) AS n",
            name=name, key=key,
        )  # fmt: skip
        return int((await found.single(strict=True))["n"])

    assert await Graph.write(graph, work) == 1
