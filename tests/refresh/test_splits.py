"""Split groups through the real refresh engine: members are the parent's active members whose
bucket is the group's, written as versioned memberships like any other segment's."""

from __future__ import annotations

import dataclasses

import pytest
from arq.connections import ArqRedis

from server.refresh.graph import Graph, rows
from server.refresh.jobs import submit_refresh
from server.refresh.passes import refresh_pass
from server.refresh.records import RunStatus
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.splits.allocation import allocate
from server.splits.buckets import Ranges, bucket_of, flatten, in_ranges
from tests.refresh.conftest import RunWorker
from tests.refresh.helpers import add_people, make_segment, members_with, segment_props

pytestmark = pytest.mark.anyio

SEED = "test-seed"
PEOPLE = 3000


@pytest.fixture
def big(env: RefreshEnv) -> RefreshEnv:
    """Batches of a realistic size for a few thousand members (the fixture's are tiny)."""
    return dataclasses.replace(env, batch_size=5000)


async def _split(graph: Graph, groups: dict[str, Ranges]) -> None:
    """Groups of `parent` as the API store writes them."""
    for order, (name, ranges) in enumerate(groups.items()):
        await make_segment(graph, name, "in parent and score >= 0", type="COMPOUND",
                           reads=("parent",))  # fmt: skip
        await _set_ranges(graph, name, ranges, order)


async def _set_ranges(graph: Graph, name: str, ranges: Ranges, order: int = 0) -> None:
    await graph.write(
        lambda tx: rows(
            tx,
            "MATCH (g:_Segment {id: $id}) SET g.splitParentId = 'parent', g.splitSeed = $seed, "
            "g.splitBuckets = $buckets, g.splitOrder = $order",
            id=name,
            seed=SEED,
            buckets=flatten(ranges),
            order=order,
        )
    )


async def _members(graph: Graph, segment_id: str) -> set[int]:
    found = await graph.read(
        "MATCH (s:_Segment {id: $id}) WITH s.activeVersion AS v "
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id "
        "AND m.since <= v AND (m.until IS NULL OR m.until > v) RETURN collect(m.key) AS keys",
        id=segment_id,
    )
    return set(found[0]["keys"])


def _expected(keys: set[int], ranges: Ranges) -> set[int]:
    return {k for k in keys if in_ranges(bucket_of(SEED, k), ranges)}


async def test_groups_partition_the_parent_in_proportion(big: RefreshEnv) -> None:
    scores = {i: i % 100 for i in range(PEOPLE)}
    await add_people(big.graph, scores)
    await make_segment(big.graph, "parent", "score >= 0")
    groups = allocate({}, {"a": 5000, "b": 3000, "holdout": 2000})
    await _split(big.graph, groups)

    outcomes = await refresh_pass(big, ["holdout", "b", "a", "parent"], "MANUAL")

    assert outcomes[0].segment_id == "parent"  # inputs first
    assert {o.status for o in outcomes} == {RunStatus.SUCCESSFUL}
    found = {name: await _members(big.graph, name) for name in groups}
    for name, share in (("a", 0.5), ("b", 0.3), ("holdout", 0.2)):
        # binomial sd at n=3000 is at most 27 (0.9%); allow four of them
        assert abs(len(found[name]) - share * PEOPLE) < 110, (name, len(found[name]))
        assert found[name] == _expected(set(scores), groups[name])
    assert found["a"] | found["b"] | found["holdout"] == set(scores)
    assert sum(len(m) for m in found.values()) == PEOPLE  # disjoint


async def test_a_profile_keeps_its_group_when_the_parent_changes(big: RefreshEnv) -> None:
    scores = {i: i % 100 for i in range(PEOPLE)}
    await add_people(big.graph, scores)
    await make_segment(big.graph, "parent", "score >= 50")
    groups = allocate({}, {"a": 5000, "b": 5000})
    await _split(big.graph, groups)
    await refresh_pass(big, ["parent", "a", "b"], "MANUAL")
    before = {name: await _members(big.graph, name) for name in groups}

    # Half the old members leave the parent, new people join it.
    changed = {i: (i + 25) % 100 for i in range(PEOPLE)} | dict.fromkeys(range(PEOPLE, 4000), 99)
    await add_people(big.graph, changed)
    await refresh_pass(big, ["parent", "a", "b"], "MANUAL")

    parent = members_with(changed, 50)
    for name in groups:
        after = await _members(big.graph, name)
        assert after == _expected(parent, groups[name])
        stayed = before[name] & parent
        assert stayed <= after  # nobody who stayed in the parent changed group
        assert (await segment_props(big.graph, name))["activeVersion"] == 2


async def test_a_changed_percentage_moves_only_the_changed_buckets(big: RefreshEnv) -> None:
    scores = dict.fromkeys(range(PEOPLE), 1)
    await add_people(big.graph, scores)
    await make_segment(big.graph, "parent", "score >= 0")
    groups = allocate({}, {"a": 2000, "b": 2000})
    await _split(big.graph, groups)
    await refresh_pass(big, ["parent", "a", "b"], "MANUAL")
    a_before, b_before = await _members(big.graph, "a"), await _members(big.graph, "b")

    grown = allocate(groups, {"a": 3000})  # a takes [4000, 5000); b keeps [2000, 4000)
    await _set_ranges(big.graph, "a", grown["a"])
    outcome = await refresh_segment(big, "a", "MANUAL")
    await refresh_segment(big, "b", "MANUAL")

    a_after, b_after = await _members(big.graph, "a"), await _members(big.graph, "b")
    assert b_after == b_before
    assert a_before < a_after
    moved = a_after - a_before
    assert moved == _expected(set(scores), ((4000, 5000),))
    assert outcome.entered == len(moved)
    assert outcome.exited == 0


async def test_an_incremental_refresh_reads_only_the_given_keys(env: RefreshEnv) -> None:
    scores = dict.fromkeys(range(200), 60)
    await add_people(env.graph, scores)
    await make_segment(env.graph, "parent", "score >= 50")
    groups = allocate({}, {"a": 10_000})
    await _split(env.graph, groups)
    await refresh_pass(env, ["parent", "a"], "MANUAL")
    await add_people(env.graph, {1: 0, 2: 0})
    await refresh_segment(env, "parent", "MANUAL", keys=[1, 2])

    outcome = await refresh_segment(env, "a", "MANUAL", keys=[1, 2, 3])

    assert (outcome.exited, outcome.member_count) == (2, 198)
    assert await _members(env.graph, "a") == set(range(200)) - {1, 2}


async def test_a_group_whose_parent_is_gone_fails_with_the_reason(env: RefreshEnv) -> None:
    await add_people(env.graph, {1: 1})
    await make_segment(env.graph, "parent", "score >= 0")
    await _split(env.graph, {"a": ((0, 10_000),)})
    await env.graph.write(lambda tx: rows(tx, "MATCH (s:_Segment {id: 'parent'}) DETACH DELETE s"))

    outcome = await refresh_segment(env, "a", "MANUAL")

    assert outcome.status is RunStatus.FAILED
    assert "no longer exists" in (outcome.reason or "")


async def test_refreshing_the_parent_refreshes_its_groups_after_it(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, dict.fromkeys(range(100), 70))
    await make_segment(graph, "parent", "score >= 50")
    await make_segment(graph, "other", "score >= 0")
    await _split(graph, allocate({}, {"a": 4000, "b": 6000}))

    submitted = await submit_refresh(arq_redis, graph, ["parent"])
    assert submitted is not None
    assert submitted.segment_ids == ("a", "b", "parent")
    await run_worker()

    a, b = await _members(graph, "a"), await _members(graph, "b")
    assert a | b == set(range(100))
    assert not a & b
    assert (await segment_props(graph, "other"))["status"] == "NOT_STARTED"
