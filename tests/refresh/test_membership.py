"""The membership writer against the real Neo4j: versions, diffs, atomic switch, fencing,
leftover cleaning, garbage collection, and the history read from since/until intervals."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from datetime import UTC, datetime, timedelta

import pytest

from server.refresh import claims, membership, runs
from server.refresh.claims import ClaimLost, SegmentBusy
from server.refresh.records import MemberQuery, RunStatus
from server.refresh.refresh import RefreshEnv, refresh_segment
from tests.refresh.helpers import (
    active_members,
    add_people,
    make_segment,
    member_rel_count,
    members_with,
    segment_props,
)

EVERYONE = MemberQuery(
    cypher="MATCH (p:Person) RETURN p.id AS key", profile_label="Person", profile_key="id"
)

pytestmark = pytest.mark.anyio

SCORES = {i: i % 100 for i in range(1, 301)}


async def test_first_refresh_writes_version_one_and_records_the_run(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    outcome = await refresh_segment(env, "high", "MANUAL")
    expected = members_with(SCORES, 50)
    assert (outcome.status, outcome.version, outcome.entered) == (
        RunStatus.SUCCESSFUL, 1, len(expected)
    )  # fmt: skip
    assert await active_members(env.graph, "high") == expected
    props = await segment_props(env.graph, "high")
    assert (props["activeVersion"], props["status"], props.get("pendingRun")) == (
        1,
        "SUCCESSFUL",
        None,
    )
    assert props["lastRefreshedAt"] is not None
    [run] = await runs.list_runs(env.graph, "high")
    assert (run.status, run.version, run.member_count, run.entered_count, run.exited_count) == (
        RunStatus.SUCCESSFUL, 1, len(expected), len(expected), 0
    )  # fmt: skip
    assert run.definition_version == 1
    assert run.duration_ms is not None
    assert run.now is not None


async def test_second_refresh_writes_only_the_difference(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    before = members_with(SCORES, 50)
    changed = {1: 99, 2: 98, 50: 0, 51: 1, 52: 2}  # two enter, three leave
    await add_people(env.graph, changed)
    after = members_with(SCORES | changed, 50)

    outcome = await refresh_segment(env, "high", "MANUAL")

    assert (outcome.version, outcome.entered, outcome.exited) == (2, 2, 3)
    assert await active_members(env.graph, "high") == after
    # Only the five changes touched the graph: two new relationships, three given an end.
    assert await member_rel_count(env.graph, "high") == len(before) + 2
    # Who entered and who left equal a recomputation from the two member sets.
    assert set(await runs.entered_keys(env.graph, "high", 2)) == after - before
    assert set(await runs.exited_keys(env.graph, "high", 2)) == before - after
    # The membership as of the first run is still there.
    assert set(await runs.members_as_of(env.graph, "high", 1, first=1000)) == before
    assert set(await runs.members_as_of(env.graph, "high", 2, first=1000)) == after


async def test_members_as_of_pages_by_key(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    first = await runs.members_as_of(env.graph, "high", 1, first=10)
    second = await runs.members_as_of(env.graph, "high", 1, first=10, after=first[-1])
    assert first == sorted(members_with(SCORES, 50))[:10]
    assert second == sorted(members_with(SCORES, 50))[10:20]


async def test_readers_see_the_old_or_the_new_set_never_a_mix(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    old = members_with(SCORES, 50)
    flipped = {k: 99 - v for k, v in SCORES.items()}  # nearly everyone changes side
    await add_people(env.graph, flipped)
    new = members_with(flipped, 50)
    seen: list[frozenset[int]] = []

    async def read_until(done: asyncio.Event) -> None:
        while not done.is_set():
            seen.append(frozenset(await active_members(env.graph, "high")))

    done = asyncio.Event()
    reader = asyncio.ensure_future(read_until(done))
    small = dataclasses.replace(env, batch_size=20)
    outcome = await refresh_segment(small, "high", "MANUAL")  # 15 batches of 20 in between
    done.set()
    await reader
    assert outcome.status is RunStatus.SUCCESSFUL
    assert len(seen) > 3
    assert set(seen) <= {frozenset(old), frozenset(new)}
    assert seen[-1] == frozenset(new)


async def test_batches_written_in_flight_make_the_same_version(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    old = members_with(SCORES, 50)
    new = (old - set(range(50, 100))) | set(range(1, 40))
    claim = await claims.claim_segment(env.graph, "high", "run", lease_ms=5000, run_props={})
    diff = membership.diff_members(old, new)
    heard: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        heard.append((done, total))

    await membership.write_diff(env.graph, claim, EVERYONE, diff, progress, 7, in_flight=3)
    await claims.switch_version(env.graph, claim, definition_version=1, counts=_counts())

    assert await active_members(env.graph, "high") == new
    assert await member_rel_count(env.graph, "high") == len(old | new)  # exits kept as history
    total = len(diff.entered) + len(diff.exited)
    done = [d for d, _ in heard]
    assert done == sorted(done)
    assert done[-1] == total
    assert {t for _, t in heard} == {total}
    assert len(heard) == -(-len(diff.entered) // 7) + -(-len(diff.exited) // 7)


async def test_a_stale_writer_cannot_write_or_switch(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    stale = await claims.claim_segment(env.graph, "high", "old-run", lease_ms=1500, run_props={})
    with pytest.raises(SegmentBusy):
        await claims.claim_segment(env.graph, "high", "newer", lease_ms=1500, run_props={})
    await asyncio.sleep(1.6)  # the old run stops heartbeating (a paused or partitioned worker)
    newer = await refresh_segment(env, "high", "MANUAL")
    assert newer.status is RunStatus.SUCCESSFUL
    query = EVERYONE
    diff = membership.diff_members(set(), {1, 2, 3})
    with pytest.raises(ClaimLost):
        await membership.write_diff(env.graph, stale, query, diff, _noop)
    with pytest.raises(ClaimLost):  # the first failure itself, not a group of them
        await membership.write_diff(env.graph, stale, query, diff, _noop, 1, in_flight=2)
    with pytest.raises(ClaimLost):
        await claims.switch_version(env.graph, stale, definition_version=1, counts=_counts())
    props = await segment_props(env.graph, "high")
    assert props["activeVersion"] == newer.version
    assert await active_members(env.graph, "high") == members_with(SCORES, 50)


async def test_an_aborted_version_is_cleaned_before_the_next_write(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    old = members_with(SCORES, 50)
    # A run that wrote half a version and died: some entered, some exited, no switch.
    dead = await claims.claim_segment(env.graph, "high", "dead", lease_ms=100, run_props={})
    query = EVERYONE
    partial = membership.diff_members(old, {1, 2, 3} | (old - {50, 51}))
    await membership.write_diff(env.graph, dead, query, partial, _noop)
    assert await active_members(env.graph, "high") == old  # invisible to readers
    await asyncio.sleep(0.2)

    outcome = await refresh_segment(env, "high", "MANUAL")

    assert outcome.status is RunStatus.SUCCESSFUL
    assert outcome.version == dead.version + 1
    assert (outcome.entered, outcome.exited) == (0, 0)
    assert await active_members(env.graph, "high") == old
    assert await member_rel_count(env.graph, "high") == len(old)


async def test_old_versions_beyond_retention_are_collected(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    for bump in range(4):  # each refresh moves ten people out
        await add_people(env.graph, {50 + i + 10 * bump: 0 for i in range(10)})
        await refresh_segment(env, "high", "MANUAL")
    # keep_versions=2: versions 3 and 4 are kept, so memberships that ended at 3 or before go.
    found = await env.graph.read(
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = 'high' AND m.until IS NOT NULL "
        "RETURN min(m.until) AS oldest"
    )
    assert found[0]["oldest"] == 4
    assert len(await runs.members_as_of(env.graph, "high", 3, first=1000)) == 150 - 30


async def test_trend_and_last_weeks_growth_come_from_runs(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    await add_people(env.graph, {1: 99, 2: 99})
    await refresh_segment(env, "high", "MANUAL")
    now = datetime.now(UTC) + timedelta(seconds=1)
    points = await runs.trend(env.graph, "high", now - timedelta(days=1), now)
    assert [p.member_count for p in points] == [150, 152]
    growth = await runs.growth(env.graph, "high", now)
    assert growth is not None
    assert (growth.current, growth.previous, growth.delta) == (152, 150, 2)


async def test_a_member_page_reads_about_one_page_from_the_index(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    await add_people(env.graph, {k: 99 - v for k, v in SCORES.items()})
    await refresh_segment(env, "high", "MANUAL")  # two versions' memberships to skip over
    async with env.graph.driver.session(database=env.graph.database) as session:
        # A plan cached by an earlier test on other data, or statistics sampled while another
        # test's larger segments were in the index, may sort instead of reading in index order;
        # this test is about the plan the current statistics give.
        await (await session.run("CALL db.resampleOutdatedIndexes()")).consume()
        await (await session.run("CALL db.clearQueryCaches()")).consume()
        result = await session.run(
            "PROFILE " + runs._PAGE_MATCH + "AND m.key > $after " + runs._PAGE_END,
            id="high", version=2, after=100, first=10,
        )  # fmt: skip
        keys = [r["key"] async for r in result]
        summary = await result.consume()
    assert keys == sorted(k for k in members_with(SCORES, 0) if SCORES[k] < 50 and k > 100)[:10]
    plan = str(summary.profile)
    assert "RelationshipIndexSeek" in plan
    assert "Limit" in plan  # stops after the page, no sort of the whole segment
    assert sum(int(h) for h in re.findall(r"'dbHits': (\d+)", plan)) < 200


async def test_a_broken_definition_fails_and_keeps_the_active_version(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    await env.graph.write(
        lambda tx: tx.run("MATCH (d:_SegmentDefinition {segmentId: 'high'}) SET d.text = 'broken'")
    )
    outcome = await refresh_segment(env, "high", "MANUAL")
    props = await segment_props(env.graph, "high")
    assert outcome.status is RunStatus.FAILED
    assert (props["status"], props["activeVersion"]) == ("FAILED", 1)
    assert "CypherSyntaxError" in props["statusDetail"] or "Syntax" in props["statusDetail"]
    assert await active_members(env.graph, "high") == members_with(SCORES, 50)


async def _noop(done: int, total: int) -> None:
    return None


def _counts() -> dict[str, int]:
    return {"members": 0, "entered": 0, "exited": 0}


async def test_entered_and_exited_equal_a_recomputation_over_random_rounds(
    env: RefreshEnv,
) -> None:
    rng = random.Random(7)
    scores = dict(SCORES)
    await add_people(env.graph, scores)
    await make_segment(env.graph, "high", "score >= 50")
    previous: set[int] = set()
    for _ in range(3):
        outcome = await refresh_segment(env, "high", "MANUAL")
        assert outcome.version is not None
        current = members_with(scores, 50)
        entered = await runs.entered_keys(env.graph, "high", outcome.version, first=1000)
        exited = await runs.exited_keys(env.graph, "high", outcome.version, first=1000)
        assert (set(entered), set(exited)) == (current - previous, previous - current)
        assert (outcome.entered, outcome.exited) == (len(entered), len(exited))
        assert await active_members(env.graph, "high") == current
        previous = current
        changes = {k: rng.randrange(100) for k in rng.sample(sorted(scores), 40)}
        scores |= changes
        await add_people(env.graph, changes)


async def test_run_history_is_pruned_to_its_horizon(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    short = dataclasses.replace(env, keep_runs=2)
    for _ in range(3):
        await refresh_segment(short, "high", "MANUAL")
    assert [r.version for r in await runs.list_runs(env.graph, "high")] == [3, 2]


async def test_other_version_writers_can_discard_an_aborted_refresh(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    old = members_with(SCORES, 50)
    live = await claims.claim_segment(env.graph, "high", "live", lease_ms=1000, run_props={})
    await membership.write_diff(
        env.graph, live, EVERYONE, membership.diff_members(old, {1, 2}), _noop
    )
    assert not await env.graph.write(lambda tx: claims.discard_aborted_versions(tx, "high"))
    await asyncio.sleep(1.1)  # the refresh's worker died: its lease lapses
    assert await env.graph.write(lambda tx: claims.discard_aborted_versions(tx, "high"))
    assert await member_rel_count(env.graph, "high") == len(old)
    assert await active_members(env.graph, "high") == old
    assert (await segment_props(env.graph, "high")).get("pendingRun") is None


async def test_an_incremental_refresh_of_some_profiles_equals_a_full_one(env: RefreshEnv) -> None:
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    await refresh_segment(env, "high", "MANUAL")
    changed = {1: 99, 2: 98, 50: 0, 51: 1, 52: 2}
    await add_people(env.graph, changed)

    outcome = await refresh_segment(env, "high", "LIVE", keys=[*changed, 3, 60])

    after = members_with(SCORES | changed, 50)
    assert (outcome.entered, outcome.exited, outcome.member_count) == (2, 3, len(after))
    assert await active_members(env.graph, "high") == after
    full = await refresh_segment(env, "high", "MANUAL")
    assert (full.entered, full.exited, full.member_count) == (0, 0, len(after))


async def test_a_big_change_schedules_index_resampling(
    env: RefreshEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past RESAMPLE_AFTER changed memberships the refresh asks Neo4j to resample outdated
    index statistics: the procedure must exist on Community and succeed in the run."""
    import server.refresh.refresh as refresh_module

    calls: list[int] = []
    original = refresh_module._resample_after_big_change

    async def counted(env: RefreshEnv, changed: int) -> None:
        calls.append(changed)
        await original(env, changed)

    monkeypatch.setattr(refresh_module, "RESAMPLE_AFTER", 100)
    monkeypatch.setattr(refresh_module, "_resample_after_big_change", counted)
    await add_people(env.graph, SCORES)
    await make_segment(env.graph, "high", "score >= 50")
    outcome = await refresh_segment(env, "high", "MANUAL")
    assert outcome.status is RunStatus.SUCCESSFUL
    assert calls == [len(members_with(SCORES, 50))]
