"""`kill -USR1 <pid>` makes a running worker log where every asyncio task waits: what a
process that has gone quiet is waiting for, without stopping it."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterator
from types import FrameType

log = logging.getLogger("segments.tasks")


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Handle SIGUSR1 in `loop`; nothing where signals cannot be handled (a loop outside the
    main thread, as a worker embedded in another program may run)."""
    try:
        loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
    except (ValueError, RuntimeError, NotImplementedError):
        log.info("no task dump on SIGUSR1: this loop cannot handle signals")


def dump_tasks() -> None:
    tasks = asyncio.all_tasks()
    for task in tasks:
        lines = [f"  {f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"
                 for f in _awaiting(task.get_coro())]  # fmt: skip
        log.warning("task %s (%d in all) waits in:\n%s", task.get_name(), len(tasks),
                    "\n".join(lines))  # fmt: skip


def _awaiting(coro: object) -> Iterator[FrameType]:
    """The frames of a suspended coroutine and of what it awaits, outermost first (a task's
    own `print_stack` shows only the outermost)."""
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            frame = getattr(coro, "ag_frame", None)
        if frame is not None:
            yield frame
        coro = (getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
                or getattr(coro, "ag_await", None))  # fmt: skip
