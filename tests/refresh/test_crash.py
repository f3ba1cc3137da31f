"""A worker killed mid-refresh (SIGKILL, a real process): readers keep the old version, the
half-written one stays invisible, and the job runs again and completes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import pytest
from arq.connections import ArqRedis

from server.refresh import runs
from server.refresh.graph import Graph
from server.refresh.jobs import submit_refresh
from server.refresh.progress import read_progress
from server.refresh.records import RunStatus
from server.settings import REPO_ROOT
from tests.refresh.conftest import RunWorker
from tests.refresh.helpers import (
    active_members,
    add_people,
    make_segment,
    member_rel_count,
    members_with,
    segment_props,
)

pytestmark = pytest.mark.anyio

SCORES = {i: i % 100 for i in range(1, 301)}


async def test_a_worker_killed_mid_write_leaves_the_old_version_and_the_job_reruns(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, SCORES)
    await make_segment(graph, "high", "score >= 50")
    await submit_refresh(arq_redis, graph, ["high"])
    await run_worker()
    old = members_with(SCORES, 50)
    flipped = {k: 99 - v for k, v in SCORES.items()}
    await add_people(graph, flipped)
    await submit_refresh(arq_redis, graph, ["high"])

    # arq re-runs a job once its dead worker's in-progress mark expires: job timeout + 10 s.
    env = os.environ | {"REFRESH_BATCH_SIZE": "2", "REFRESH_LEASE_MS": "2000",
                        "REFRESH_JOB_TIMEOUT_S": "3", "REFRESH_PASS_TIMEOUT_S": "3"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.refresh.worker_process"], cwd=REPO_ROOT, env=env
    )
    try:
        await _until_writing(arq_redis, "high")  # at least one of 150 batches is in
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    props = await segment_props(graph, "high")
    assert (props["status"], props["activeVersion"]) == ("REFRESHING", 1)
    assert await active_members(graph, "high") == old
    leftovers = await member_rel_count(graph, "high") - len(old)
    assert leftovers > 0  # it really died half-way through writing version 2

    await run_worker()  # waits for the dead worker's job to become runnable again

    props = await segment_props(graph, "high")
    assert (props["status"], props["activeVersion"]) == ("SUCCESSFUL", 3)
    new = members_with(flipped, 50)
    assert await active_members(graph, "high") == new
    assert await member_rel_count(graph, "high") == len(old) + len(new)
    statuses = [r.status for r in await runs.list_runs(graph, "high")]
    assert statuses == [RunStatus.SUCCESSFUL, RunStatus.FAILED, RunStatus.SUCCESSFUL]


async def _until_writing(redis: ArqRedis, segment_id: str) -> None:
    for _ in range(600):
        progress = await read_progress(redis, segment_id)
        if progress is not None and progress["phase"] == "WRITING" and progress["percent"] > 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the worker process never started writing")
