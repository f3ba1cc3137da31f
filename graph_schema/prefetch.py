"""Run an iterator in a background thread, a few items ahead of its consumer.

The importer parses and converts the next CSV batch while Neo4j writes the current one: the
driver releases the GIL while it waits on the socket, so the two overlap even on two cores.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Failed:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield `items` produced by a worker thread; closing this generator stops the worker.

    Re-raises in the consumer whatever the producer raised.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Failed(exc))
        finally:
            close = getattr(items, "close", None)  # a generator closes its file here
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="import-prefetch", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.exc
            yield item  # type: ignore[misc]  # only the producer's T items reach here
    finally:
        stop.set()
        worker.join()
