"""Deferred garbage collection: memberships of a version replaced less than the grace ago stay,
so no read that started within the grace meets their deletion (server/refresh/runs.py
`OLDEST_KEPT`, used by `refresh_segment` and the grouped pass alike)."""

from __future__ import annotations

import dataclasses
import functools

import pytest

from server.refresh import group_claims, runs
from server.refresh.graph import Graph, rows
from server.refresh.refresh import RefreshEnv, refresh_segment
from tests.refresh.helpers import add_people, make_segment, member_rel_count, set_definition

pytestmark = pytest.mark.anyio


async def _runs_finished(graph: Graph, seconds_ago: list[int]) -> None:
    """Successful runs of segment `s`, version i + 1 switched `seconds_ago[i]` seconds ago."""
    await graph.write(
        lambda tx: rows(
            tx,
            "UNWIND range(0, size($ago) - 1) AS i "
            "CREATE (:_SegmentRun {id: 'r' + i, segmentId: 's', status: 'SUCCESSFUL', "
            "  version: i + 1, finishedAt: datetime() - duration({seconds: $ago[i]})})",
            ago=seconds_ago,
        )
    )


async def test_the_oldest_kept_version_waits_for_the_grace(graph: Graph) -> None:
    await _runs_finished(graph, [500, 400, 300, 200, 100])
    assert await runs.oldest_kept_version(graph, "s", 2) == 4
    assert await runs.oldest_kept_version(graph, "s", 2, grace_s=250) == 3
    assert await runs.oldest_kept_version(graph, "s", 4, grace_s=250) == 2  # the keep still rules
    assert await runs.oldest_kept_version(graph, "s", 2, grace_s=1000) is None
    assert await runs.oldest_kept_version(graph, "s", 6) is None
    assert await runs.oldest_kept_version(graph, "other", 1) is None


async def _alternate(env: RefreshEnv, times: int) -> None:
    for run in range(times):
        await set_definition(env.graph, "s", "score >= 50" if run % 2 else "score >= 80")
        await refresh_segment(env, "s", "MANUAL")


async def test_a_refresh_collects_only_versions_replaced_before_the_grace(
    env: RefreshEnv,
) -> None:
    await add_people(env.graph, {i: i % 100 for i in range(100)})
    await make_segment(env.graph, "s", "score >= 50")
    await refresh_segment(env, "s", "MANUAL")  # 50 members
    await _alternate(dataclasses.replace(env, gc_grace_s=3600), 4)  # 20, 50, 20, 50 members
    assert await member_rel_count(env.graph, "s") == 50 + 30 + 30  # rows of v1, v3, v5: all kept
    await _alternate(dataclasses.replace(env, gc_grace_s=0), 1)  # 20: the last two versions kept
    assert await member_rel_count(env.graph, "s") == 20 + 30  # the open 20, v5's 30 ended at v6


async def test_the_grouped_pass_collects_with_the_grace_too(env: RefreshEnv) -> None:
    await add_people(env.graph, {i: i % 100 for i in range(100)})
    await make_segment(env.graph, "s", "score >= 50")
    await refresh_segment(env, "s", "MANUAL")
    await _alternate(dataclasses.replace(env, gc_grace_s=3600), 2)  # 20, 50
    before = await member_rel_count(env.graph, "s")
    collect = functools.partial(
        group_claims.collect_garbage, env.graph, ["s"], keep_versions=2, keep_runs=10,
        batch_size=50,
    )  # fmt: skip
    assert await collect(grace_s=3600) == 0
    assert await member_rel_count(env.graph, "s") == before
    assert await collect(grace_s=0) > 0
    assert await member_rel_count(env.graph, "s") == 50  # the 30 that left at v2 went
