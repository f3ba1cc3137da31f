"""Load: the bench/load generator in its short mode (CI) or long mode (by hand), figures
recorded per operation and level (bench.load.figures). Errors must be none; the latency target
is recorded, not asserted: performance targets live in benchmarks."""

from __future__ import annotations

import os

import neo4j

from bench.load.figures import record_levels
from bench.load.run import measure
from server.settings import Settings
from tests.reliability.figures import long_mode


def test_mixed_load_while_a_refresh_runs(empty_graph: neo4j.Driver, settings: Settings) -> None:
    if long_mode():  # a run by hand may be shorter on a busy machine: the figures say so
        seconds = float(os.environ.get("RELIABILITY_LOAD_SECONDS") or 300)
        customers, levels = 100_000, [50, 200]
    else:
        customers, levels, seconds = 10_000, [50], 20.0
    found = measure(customers, levels, seconds, settings.api_port)
    assert record_levels(found, customers) == 0
