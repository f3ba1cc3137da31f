"""An expansion run's phases, reported to the refresh engine (server.refresh.progress) from the
event loop and from the threads that train and score.

A thread cannot await the publisher: it hands each (phase, percent) to the loop, where one task
publishes them in the order they came, so a subscriber never sees a phase go back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from scoring.similarity import Progress, Stage
from server.refresh.progress import ReportPhase
from server.refresh.records import Phase

Send = Callable[[Phase, int], None]

# share of the reading phase spent on feature rows; the rest reads string attributes
FEATURE_SHARE = 90
# share of the scoring phase spent predicting; the rest picks the output and stores the scores
PREDICT_SHARE = 90


@contextlib.asynccontextmanager
async def from_thread(report: ReportPhase) -> AsyncIterator[Send]:
    """A `send(phase, percent)` callable from any thread; everything sent is published, in
    order, before the block ends (dropped when the block fails)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Phase, int] | None] = asyncio.Queue()

    async def drain() -> None:
        while (item := await queue.get()) is not None:
            await report(*item)

    def send(phase: Phase, percent: int) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (phase, percent))

    task = asyncio.ensure_future(drain())
    try:
        yield send
    except BaseException:
        task.cancel()
        raise
    queue.put_nowait(None)
    await task


def model_progress(send: Send) -> Progress:
    """The model's training (TRAINING) and scoring of the population (SCORING)."""

    def progress(stage: Stage, done: int, total: int) -> None:
        if stage == "training":
            send(Phase.TRAINING, 100 * done // total)
        else:
            send(Phase.SCORING, PREDICT_SHARE * done // total)

    return progress
