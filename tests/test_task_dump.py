"""The worker's SIGUSR1 dump names the innermost await of every task, not only its outermost
coroutine (what `Task.print_stack` shows)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from server import task_dump


async def _innermost_wait(event: asyncio.Event) -> None:
    await event.wait()


async def _outer(event: asyncio.Event) -> None:
    await _innermost_wait(event)


def test_sigusr1_logs_each_task_down_to_its_innermost_await(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        task_dump.install(asyncio.get_running_loop())
        event = asyncio.Event()
        waiting = asyncio.create_task(_outer(event), name="waiting-task")
        await asyncio.sleep(0)
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.sleep(0.05)  # the handler runs on the loop
        event.set()
        await waiting

    with caplog.at_level(logging.WARNING, logger="segments.tasks"):
        asyncio.run(main())
    dumped = [r.getMessage() for r in caplog.records if "waiting-task" in r.getMessage()]
    assert len(dumped) == 1, caplog.text
    assert "in _outer" in dumped[0]
    assert "in _innermost_wait" in dumped[0]
    assert dumped[0].index("_outer") < dumped[0].index("_innermost_wait")
