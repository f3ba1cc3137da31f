"""The cyclic garbage collector of an API process: tuned for many short requests over a large
heap that lives as long as the process.

A full (generation 2) collection walks every tracked object. The API's heap after startup
(imported modules, the GraphQL and graph schemas) is large, and under load the default
thresholds ran a full collection every second or so, ~170 ms each with the event loop
stopped: every request in flight waited, which is most of the p99. Freezing that heap once
takes it out of every later collection (`gc.freeze`); a first threshold of 2000 (CPython 3.13's
default) makes young collections about three times fewer.
Measured in one run, 50 concurrent clients: collector time 2.3-2.9 s of every 10 s to 0.9 s.
"""

from __future__ import annotations

import gc

THRESHOLDS = (2000, 10, 100)


_collected = False


def settle(thresholds: tuple[int, int, int] = THRESHOLDS) -> None:
    """Collect what startup left behind, then freeze the rest and set the thresholds. Call
    once the process has built what it keeps (after imports and schemas, before serving).
    Only the first call collects: a process that starts apps again and again (the tests, one
    app each) would otherwise pay a full collection of its whole heap, ~0.15 s, for each."""
    global _collected
    if not _collected:
        gc.collect()
        _collected = True
    gc.freeze()
    gc.set_threshold(*thresholds)


def release() -> None:
    """Hand the frozen heap back to the collector (an app shutting down in a process that
    goes on, as in tests, leaves no uncollectable garbage behind)."""
    gc.unfreeze()
