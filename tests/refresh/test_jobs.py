"""arq tasks with real workers on the real Redis and Neo4j: deterministic job ids, dependency
passes with SKIPPED propagation, cancel, reconcile after Redis lost its queue, exclusivity."""

from __future__ import annotations

import asyncio

import pytest
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix

from server.refresh import runs
from server.refresh.graph import Graph
from server.refresh.jobs import cancel_refresh, reconcile, submit_refresh
from server.refresh.progress import read_progress
from server.refresh.records import RunStatus
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


async def test_a_double_submit_is_a_no_op_and_a_later_one_runs_again(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, SCORES)
    await make_segment(graph, "high", "score >= 50")
    first = await submit_refresh(arq_redis, graph, ["high"])
    second = await submit_refresh(arq_redis, graph, ["high"])
    assert first is not None
    assert second is not None
    assert (first.job_id, first.enqueued) == ("refresh:high:1", True)
    assert (second.job_id, second.enqueued) == ("refresh:high:1", False)
    assert (await segment_props(graph, "high"))["status"] == "QUEUED"
    await run_worker()
    assert [r.status for r in await runs.list_runs(graph, "high")] == [RunStatus.SUCCESSFUL]
    progress = await read_progress(arq_redis, "high")
    assert progress is not None
    assert (progress["phase"], progress["percent"], progress["status"]) == (
        "DONE", 100, "SUCCESSFUL"
    )  # fmt: skip

    again = await submit_refresh(arq_redis, graph, ["high"])  # the kept result does not block
    assert again is not None
    assert again.enqueued
    await run_worker()
    assert len(await runs.list_runs(graph, "high")) == 2


async def test_a_pass_refreshes_inputs_first_and_skips_dependents_of_a_failure(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, SCORES)
    await make_segment(graph, "base", "score >= 50")
    await make_segment(graph, "mid", "in base and score >= 70", reads=("base",))
    await make_segment(graph, "top", "in mid and score >= 90", reads=("mid",))
    await make_segment(graph, "broken", "broken")
    await make_segment(graph, "child", "in broken and score >= 1", reads=("broken",))
    await make_segment(graph, "grandchild", "in child and score >= 1", reads=("child",))
    ids = ["top", "grandchild", "mid", "child", "broken", "base"]

    submitted = await submit_refresh(arq_redis, graph, ids)
    await run_worker()

    assert submitted is not None
    assert submitted.job_id.startswith("refresh-pass:")
    assert await active_members(graph, "mid") == members_with(SCORES, 70)
    assert await active_members(graph, "top") == members_with(SCORES, 90)
    started = {s: (await runs.list_runs(graph, s))[0].started_at for s in ("base", "mid", "top")}
    assert started["base"] < started["mid"] < started["top"]  # type: ignore[operator]
    statuses = {s: (await segment_props(graph, s)) for s in ("broken", "child", "grandchild")}
    assert statuses["broken"]["status"] == "FAILED"
    assert (statuses["child"]["status"], statuses["child"]["statusDetail"]) == (
        "SKIPPED", "input broken FAILED"
    )  # fmt: skip
    assert (statuses["grandchild"]["status"], statuses["grandchild"]["statusDetail"]) == (
        "SKIPPED", "input child SKIPPED"
    )  # fmt: skip


async def test_cancel_a_queued_refresh(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, SCORES)
    await make_segment(graph, "high", "score >= 50")
    await submit_refresh(arq_redis, graph, ["high"])
    assert await cancel_refresh(graph, "high")
    await run_worker()
    props = await segment_props(graph, "high")
    assert (props["status"], props["activeVersion"]) == ("CANCELLED", 0)
    assert await runs.list_runs(graph, "high") == []
    assert not await cancel_refresh(graph, "high")  # nothing left to cancel


async def test_cancel_a_running_refresh_keeps_the_active_version(
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

    worker = asyncio.ensure_future(run_worker(batch_size=5))  # 60 small batches to write
    await _until_phase(arq_redis, "high", "WRITING")
    assert await cancel_refresh(graph, "high")
    await worker

    props = await segment_props(graph, "high")
    assert (props["status"], props["activeVersion"]) == ("CANCELLED", 1)
    assert await active_members(graph, "high") == old
    assert next(r.status for r in await runs.list_runs(graph, "high")) is RunStatus.CANCELLED
    # The next request cleans the cancelled run's half-written version and completes.
    await submit_refresh(arq_redis, graph, ["high"])
    await run_worker()
    assert await active_members(graph, "high") == members_with(flipped, 50)
    assert await member_rel_count(graph, "high") == len(old) + len(members_with(flipped, 50))


async def test_reconcile_requeues_requests_lost_with_redis(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, SCORES)
    await make_segment(graph, "high", "score >= 50")
    await submit_refresh(arq_redis, graph, ["high"])
    await arq_redis.flushall()  # Redis restarted empty: the queued job is gone
    await run_worker()  # its startup finds the QUEUED segment without a job
    props = await segment_props(graph, "high")
    assert (props["status"], props["activeVersion"]) == ("SUCCESSFUL", 1)
    assert (await runs.list_runs(graph, "high"))[0].trigger == "RECONCILE"


async def test_reconcile_releases_a_job_marked_running_that_no_worker_owns(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    """arq marked the job running, then Redis dropped the connection before the job noted its
    worker (or after it forgot it, before arq cleared the mark): no worker runs it."""
    await add_people(graph, SCORES)
    await make_segment(graph, "high", "score >= 50")
    submitted = await submit_refresh(arq_redis, graph, ["high"])
    assert submitted is not None
    marked = in_progress_key_prefix + submitted.job_id
    await arq_redis.psetex(marked, 3_600_000, b"1")  # no worker starts it until this expires
    assert await reconcile(arq_redis, graph, worker_ttl_s=3600) == []  # just seen unowned
    assert await arq_redis.exists(marked)
    assert await reconcile(arq_redis, graph, worker_ttl_s=0) == ["high"]
    assert not await arq_redis.exists(marked)
    await run_worker()
    props = await segment_props(graph, "high")
    assert (props["status"], props["activeVersion"]) == ("SUCCESSFUL", 1)


async def test_two_workers_never_refresh_one_segment_at_once(
    graph: Graph, arq_redis: ArqRedis, run_worker: RunWorker
) -> None:
    await add_people(graph, SCORES)
    await make_segment(graph, "high", "score >= 50")
    await make_segment(graph, "other", "score >= 10")
    await submit_refresh(arq_redis, graph, ["high"])  # one job ...
    await submit_refresh(arq_redis, graph, ["high", "other"])  # ... and a pass with it
    await asyncio.gather(run_worker(batch_size=20), run_worker(batch_size=20))
    done = sorted(await runs.list_runs(graph, "high"), key=lambda r: r.started_at)  # type: ignore[arg-type, return-value]
    assert [r.status for r in done] == [RunStatus.SUCCESSFUL, RunStatus.SUCCESSFUL]
    assert done[0].finished_at <= done[1].started_at  # type: ignore[operator]
    assert await active_members(graph, "high") == members_with(SCORES, 50)


async def _until_phase(redis: ArqRedis, segment_id: str, phase: str) -> None:
    for _ in range(400):
        progress = await read_progress(redis, segment_id)
        if progress is not None and progress["phase"] == phase:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{segment_id} never reached {phase}")
