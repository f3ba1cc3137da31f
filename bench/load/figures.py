"""The reliability figures of a load run: one row for each level and one per operation.

Errors must be none; the latency target (p99 < 300 ms for the segments list and member pages
at 50 clients) is recorded, not asserted: a shared machine's p99 says more about its neighbours
than the code. Used by tests/reliability/test_load.py and `python -m bench.load.run --record`.
"""

from __future__ import annotations

from bench.load.run import Level
from tests.reliability.figures import record

TARGET_MS = 300.0
TARGETED = ("list", "members")


def record_levels(levels: list[Level], customers: int, setup: str = "") -> int:
    """Record each level's figures; returns the errors found. `setup` names what differs
    from one API process (e.g. "2 API processes")."""
    errors = 0
    extra = f", {setup}" if setup else ""
    for level in levels:
        total = len(level.outcomes)
        failed = sum(not o.ok for o in level.outcomes)
        errors += failed
        result = (f"{total / level.seconds:,.0f} req/s; {failed} errors; "
                  f"{level.refreshes_done} refreshes done meanwhile")  # fmt: skip
        if level.cpu_ms:
            shown = ", ".join(f"{name} {ms:.2f}" for name, ms in level.cpu_ms.items())
            result += f"; CPU ms a request: {shown}"
        if failed:
            result += f" (first: {level.failures()[0][:160]})"
        what = (f"all operations, {level.clients} clients{extra}, {level.seconds:.0f} s, "
                f"{customers // 1000}k customers")  # fmt: skip
        record("Load", what, total, result, "0 errors", not failed)
        for op, s in level.stats().items():
            targeted = op in TARGETED and level.clients == 50
            ok = s["errors"] == 0 and (not targeted or s["p99"] < TARGET_MS)
            record("Load", f"{op}, {level.clients} clients{extra}", int(s["n"]),
                   f"{s['rps']:,.1f} req/s; p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms, "
                   f"p99 {s['p99']:.0f} ms; errors {s['errors']:.2%}",
                   f"p99 < {TARGET_MS:.0f} ms" if targeted else "0 errors", ok)  # fmt: skip
    return errors
