"""Every reader of a membership version goes through the checked version scan
(server/store/version_scan.py): on real Neo4j each still returns the version it read, and a
version that reads wrong (a membership present twice, as a racing scan was seen to return it)
fails the read with the typed error instead of being passed on -- a refresh diffed against it
is queued again, never switched."""

from __future__ import annotations

import pytest

from server.expansion.graph import segment_members
from server.refresh import membership, runs
from server.refresh.graph import Graph, rows
from server.refresh.records import RunStatus
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.store import Db
from server.store.members import list_members, member_batches, segment_with_members
from server.store.overlap import overlap_counts
from server.store.version_scan import ScanInconsistent, version_keys
from tests.refresh.helpers import add_people, make_segment, members_with, set_definition

pytestmark = pytest.mark.anyio

SCORES = {i: i % 100 for i in range(300)}
OLD, NEW = members_with(SCORES, 50), members_with(SCORES, 80)


@pytest.fixture
async def two_versions(env: RefreshEnv) -> Graph:
    """Segment `s`: version 1 holds score >= 50 (150 people), version 2 score >= 80 (60)."""
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "s", "score >= 50")
    assert (await refresh_segment(env, "s", "MANUAL")).version == 1
    await set_definition(env.graph, "s", "score >= 80")
    assert (await refresh_segment(env, "s", "MANUAL")).version == 2
    return env.graph


async def _pages(graph: Graph, version: int, first: int) -> list[object]:
    keys: list[object] = []
    while page := await runs.members_as_of(graph, "s", version, first, keys[-1] if keys else None):
        keys += page
    return keys


async def test_each_reader_returns_the_version_it_reads(two_versions: Graph) -> None:
    graph = two_versions
    active = await version_keys(graph, "s")
    assert active is not None
    assert (active.version, active.count, active.keys) == (2, len(NEW), sorted(NEW))
    old = await version_keys(graph, "s", 1)  # the count of an older version is its run's
    assert old is not None
    assert (old.count, old.keys) == (len(OLD), sorted(OLD))
    assert await version_keys(graph, "nope") is None
    assert await membership.read_members(graph, "s", 1) == OLD
    assert await membership.read_members(graph, "nope", 1) == set()
    assert await _pages(graph, 1, 40) == sorted(OLD)
    assert await runs.members_as_of(graph, "s", 2, 100) == sorted(NEW)  # whole: count checked
    assert await segment_members(graph, "s") == sorted(NEW)


async def test_the_stores_readers_return_the_version_they_read(two_versions: Graph) -> None:
    db = Db(two_versions.driver, two_versions.database)
    page = await list_members(db, "s", 1000, None, columns=())
    assert ([m.key for m in page.items], page.total) == (sorted(NEW), len(NEW))
    batches = [[m.key for m in b] async for b in member_batches(db, "s", 25)]
    assert [len(b) for b in batches] == [25, 25, 10]
    assert [k for b in batches for k in b] == sorted(NEW)
    [both] = await overlap_counts(db, ["s"], None)
    assert (both.combination, both.count) == ((0,), len(NEW))
    by_value = await overlap_counts(db, ["s"], "score")
    assert sum(c.count for c in by_value) == len(NEW)


async def _twice(graph: Graph, key: int, version: int) -> None:
    """A second active membership of `key`: what a scan reading one row twice returns."""
    await graph.write(
        lambda tx: rows(
            tx,
            "MATCH (s:_Segment {id: 's'}), (p:Person {id: $key}) "
            "CREATE (s)-[:_MEMBER {segmentId: 's', key: $key, since: $v}]->(p)",
            key=key,
            v=version,
        )
    )


async def test_a_version_read_wrong_fails_every_reader(two_versions: Graph) -> None:
    graph = two_versions
    db = Db(graph.driver, graph.database)
    await _twice(graph, sorted(NEW)[3], 2)
    with pytest.raises(ScanInconsistent) as raised:
        await version_keys(graph, "s")
    assert (raised.value.version, raised.value.problem.reason) == (2, "duplicate")
    with pytest.raises(ScanInconsistent):
        await runs.members_as_of(graph, "s", 2, 100)
    with pytest.raises(ScanInconsistent):
        await segment_members(graph, "s")
    with pytest.raises(ScanInconsistent):
        await list_members(db, "s", 1000, None)
    with pytest.raises(ScanInconsistent):  # the API's segment and its page in one query
        await segment_with_members(db, "s", 1000, None, None)
    with pytest.raises(ScanInconsistent):
        [b async for b in member_batches(db, "s", 25)]
    with pytest.raises(ScanInconsistent):
        await overlap_counts(db, ["s"], None)
    with pytest.raises(ScanInconsistent):
        await overlap_counts(db, ["s"], "score")
    # Pages short of the whole version cannot see a count, but still see the key twice.
    with pytest.raises(ScanInconsistent):
        await list_members(db, "s", 10, None)


async def test_a_refresh_whose_base_reads_wrong_is_queued_again_not_switched(
    two_versions: Graph, env: RefreshEnv
) -> None:
    graph = two_versions
    await _twice(graph, sorted(NEW)[0], 2)
    await set_definition(graph, "s", "score >= 90")
    with pytest.raises(ScanInconsistent):
        await refresh_segment(env, "s", "MANUAL")
    found = await graph.read(
        "MATCH (s:_Segment {id: 's'}) "
        "MATCH (r:_SegmentRun {segmentId: 's'}) WHERE r.version > 2 "
        "RETURN s.activeVersion AS v, s.status AS status, s.refreshPending AS asked, "
        "  r.error AS error",
    )
    [row] = found
    assert (row["v"], row["status"], row["asked"]) == (2, RunStatus.QUEUED.value, True)
    assert row["error"].startswith("retrying after: refresh base version of segment s version 2")


async def test_members_deleted_with_their_profiles_leave_a_stale_count_not_a_failed_read(
    two_versions: Graph, env: RefreshEnv
) -> None:
    # A live delete, or anyone's DETACH DELETE in Neo4j, takes memberships with the profile;
    # no kept count follows. Reads agree with each other, so the readers trust them.
    graph = two_versions
    db = Db(graph.driver, graph.database)
    gone = sorted(NEW)[3]
    await graph.write(
        lambda tx: rows(tx, "MATCH (p:Person {id: $key}) DETACH DELETE p RETURN 1 AS x", key=gone)
    )
    left = sorted(set(NEW) - {gone})
    assert (await version_keys(graph, "s")).keys == left  # type: ignore[union-attr]
    assert [m.key for m in (await list_members(db, "s", 1000, None)).items] == left
    assert [k.key for b in [b async for b in member_batches(db, "s", 25)] for k in b] == left
    assert await segment_members(graph, "s") == left
    outcome = await refresh_segment(env, "s", "MANUAL")  # the base read passes; a new count
    assert (outcome.status, outcome.version) == (RunStatus.SUCCESSFUL, 3)
    assert (await list_members(db, "s", 1000, None)).total == len(left)
