"""Refresh atomicity: a real `segments worker` refreshes one segment again and again, its
definition alternating between two with known, distinct memberships, and is SIGKILLed at a
random moment in half of the runs while 8 readers page and count the members through the
store's read path. Every read must be exactly one complete version; every requested refresh
must be done after the worker restarts; after garbage collection no membership is left that no
kept version can see."""

from __future__ import annotations

import asyncio
import bisect
import logging
import os
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from arq.connections import ArqRedis

from server.refresh import membership, runs
from server.refresh.graph import Graph
from server.refresh.jobs import submit_refresh
from server.store import Db
from server.store.members import count_members, list_members
from tests.reliability import processes
from tests.reliability.customers import (
    DEFINITION_A,
    DEFINITION_B,
    Memberships,
    add_customers,
    make_segment,
    set_definition,
)
from tests.reliability.figures import record, scale

pytestmark = pytest.mark.anyio

# Segment sizes 4.8k / 3.2k (short), 60k / 40k (long). A long run by hand on a busy machine may
# take fewer refreshes (RELIABILITY_ATOMICITY_RUNS): the figures record the N that ran.
CUSTOMERS = int(os.environ.get("RELIABILITY_ATOMICITY_CUSTOMERS") or scale(8_000, 100_000))
REFRESHES = int(os.environ.get("RELIABILITY_ATOMICITY_RUNS") or scale(4, 100))
READERS = 8
# Share of page reads that read the whole membership at once (a long query: the most exposed
# to concurrent writes); raise it to hunt a rare mixed read.
WHOLE_READS = float(os.environ.get("RELIABILITY_ATOMICITY_WHOLE") or 0.05)
LEASE_MS = 3000
WORKER_TTL_S = 3
KEEP_VERSIONS = 10
CONVERGE_S = 240.0
SEGMENT = "atomic"
WORKER_ENV = {
    "REFRESH_LEASE_MS": str(LEASE_MS),
    "REFRESH_WORKER_TTL_S": str(WORKER_TTL_S),
    "REFRESH_BATCH_SIZE": "2000",
    "REFRESH_KEEP_VERSIONS": str(KEEP_VERSIONS),
}


@dataclass
class Reads:
    done: int = 0
    bad: list[str] = field(default_factory=list)


class ReReads(logging.Handler):
    """Counts the version scan's re-reads in this process (the readers' member pages), by
    what the check found (duplicate, out_of_order, count, ...)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.reasons[str(getattr(record, "reason", "?"))] += 1

    def summary(self) -> str:
        found = ", ".join(f"{reason} {n}" for reason, n in self.reasons.most_common())
        return f"{self.reasons.total()}" + (f" ({found})" if found else "")


def _worker_re_reads(workers: list[processes.Process]) -> int:
    """The version scan's re-reads logged by the workers (their refreshes' base reads)."""
    return sum(w.log.read_text(errors="replace").count("version scan read again") for w in workers)


def _slice(keys: tuple[str, ...], after: str | None, first: int) -> list[str]:
    start = 0 if after is None else bisect.bisect_right(keys, after)
    return list(keys[start : start + first])


def _check_page(
    expected: Memberships, got: list[str], total: int, after: str | None, first: int
) -> str | None:
    """None when the page and its count are one complete version's, else what was wrong."""
    for keys in (expected.a, expected.b):
        if total == len(keys) and got == _slice(keys, after, first):
            return None
    return f"after={after} first={first} total={total} got {got[:3]}..{len(got)} keys" + "".join(
        f"; {name} {sorted(found)[:5]}" for name, found in _odd_keys(expected, got).items() if found
    )


def _odd_keys(expected: Memberships, got: list[str]) -> dict[str, set[str]]:
    """What makes a page wrong, against the version it is closest to: keys read twice, keys
    of the other version only, keys missing."""
    seen = set(got)
    closest = min((set(expected.a), set(expected.b)), key=lambda keys: len(keys ^ seen))
    return {
        "twice": {k for k, n in Counter(got).items() if n > 1},
        "foreign": seen - closest,
        "missing": closest - seen if len(got) >= len(closest) else set(),
    }


async def _rows_of(db: Db, keys: set[str]) -> str:
    """The membership relationships of `keys` right after a bad read, for the failure report."""
    found = await db.read(
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.key IN $keys "
        "RETURN m.key AS key, m.since AS since, m.until AS until, elementId(m) AS rel "
        "ORDER BY key, since",
        id=SEGMENT, keys=sorted(keys)[:5],
    )  # fmt: skip
    active = await db.read("MATCH (s:_Segment {id: $id}) RETURN s.activeVersion AS v", id=SEGMENT)
    return f" (active now {active[0]['v']}; rows {[dict(r) for r in found]})"


async def _reader(
    db: Db, expected: Memberships, stop: asyncio.Event, reads: Reads, seed: int
) -> None:
    rng = random.Random(seed)
    whole = len(expected.a) + len(expected.b)
    while not stop.is_set():
        roll = rng.random()
        if roll < 0.3:
            n = await count_members(db, SEGMENT)
            if n not in (len(expected.a), len(expected.b)):
                reads.bad.append(f"count {n}")
        else:
            first = whole if roll > 1 - WHOLE_READS else 100  # now and then all at once
            page = await list_members(db, SEGMENT, first, None)
            got = [str(m.key) for m in page.items]
            problem = _check_page(expected, got, page.total, None, first)
            if problem is None and page.has_next:  # the next page: again one whole version
                after = got[-1]
                page = await list_members(db, SEGMENT, first, page.cursors[-1])
                got = [str(m.key) for m in page.items]
                problem = _check_page(expected, got, page.total, after, first)
            if problem:
                odd = set().union(*_odd_keys(expected, got).values())
                reads.bad.append(problem + (await _rows_of(db, odd) if odd else ""))
        reads.done += 1


async def _converged(graph: Graph, definition_version: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        found = await graph.read(
            "MATCH (s:_Segment {id: $id}) RETURN s.status AS status, s.pendingRun AS pending, "
            "s.activeDefinitionVersion AS d, s.refreshPending AS asked",
            id=SEGMENT,
        )
        row = found[0]
        if (row["status"], row["d"], row["pending"]) == ("SUCCESSFUL", definition_version, None):
            return not row["asked"]
        await asyncio.sleep(0.1)
    return False


async def test_killed_workers_never_show_a_partial_version_and_every_refresh_converges(
    stores: tuple[Db, Graph], arq_redis: ArqRedis
) -> None:
    db, graph = stores
    expected = await add_customers(graph, CUSTOMERS)
    await make_segment(graph, SEGMENT, DEFINITION_A)
    rng = random.Random(8)
    killed = set(rng.sample(range(1, REFRESHES + 1), REFRESHES // 2))
    worker = processes.start(["worker"], WORKER_ENV)
    workers = [worker]
    re_reads = ReReads()
    logging.getLogger("segments.version_scan").addHandler(re_reads)
    stop, reads = asyncio.Event(), Reads()
    recoveries: list[float] = []
    durations: list[float] = []
    lost: list[int] = []
    readers: list[asyncio.Task[None]] = []
    try:
        await submit_refresh(arq_redis, graph, [SEGMENT])
        assert await _converged(graph, 1, time.monotonic() + CONVERGE_S), worker.tail()
        readers = [asyncio.create_task(_reader(db, expected, stop, reads, i))
                   for i in range(READERS)]  # fmt: skip
        for run in range(1, REFRESHES + 1):
            text = DEFINITION_B if run % 2 else DEFINITION_A
            version = await set_definition(graph, SEGMENT, text)
            started = time.monotonic()
            await submit_refresh(arq_redis, graph, [SEGMENT])
            if run in killed:  # anywhere from before the claim to after the switch
                typical = statistics.median(durations) if durations else 5.0
                await asyncio.sleep(rng.uniform(0, 1.2 * typical))
                worker.kill()
                await asyncio.sleep(WORKER_TTL_S + 0.5)  # a supervisor's restart delay
                worker = processes.start(["worker"], WORKER_ENV)
                workers.append(worker)
            if not await _converged(graph, version, started + CONVERGE_S):
                lost.append(run)
                break
            took = time.monotonic() - started
            (recoveries if run in killed else durations).append(took)
            print(f"refresh {run}: {'killed, ' if run in killed else ''}done in {took:.1f} s")
    finally:
        stop.set()
        await asyncio.gather(*readers, return_exceptions=True)
        worker.stop()
        logging.getLogger("segments.version_scan").removeHandler(re_reads)
    orphans = await _orphans(graph, expected)

    runs_done = len(durations) + len(recoveries)
    sizes = f"{len(expected.a):,} / {len(expected.b):,} members"
    share = "" if WHOLE_READS == 0.05 else f"; whole reads at {WHOLE_READS:.0%}"
    if grace := os.environ.get("REFRESH_GC_GRACE_S"):  # the workers inherit it
        share += f"; GC grace {grace} s"
    by_workers = _worker_re_reads(workers)
    checked = (f"{len(reads.bad)} of {reads.done:,} reads; version scans read again: "
               f"{re_reads.summary()} by readers, {by_workers} by workers")  # fmt: skip
    record("Refresh atomicity", f"partial or mixed reads (8 readers; {sizes}{share})", reads.done,
           checked, "0", not reads.bad)  # fmt: skip
    typical, worst = statistics.median(durations or [0.0]), max(recoveries, default=0.0)
    record("Refresh atomicity", f"refreshes converged ({len(killed)} with the worker SIGKILLed)",
           REFRESHES, f"{runs_done}/{REFRESHES}; a run takes {typical:.1f} s (median), a killed "
           f"one is done {worst:.1f} s after its request at most", "all",
           not lost and runs_done == REFRESHES)  # fmt: skip
    record("Refresh atomicity", "orphaned memberships after GC", REFRESHES,
           "; ".join(orphans) or "none", "none", not orphans)  # fmt: skip
    assert not reads.bad, reads.bad[:5]
    assert not lost, f"refresh {lost} never converged\n{worker.tail()}"
    assert not orphans


async def _orphans(graph: Graph, expected: Memberships) -> list[str]:
    """What GC and the claims should have left nothing of: memberships beyond the active
    version, memberships that ended before the oldest kept version, runs left open, and kept
    versions that do not read as one of the two definitions."""
    props = (await graph.read("MATCH (s:_Segment {id: $id}) RETURN s", id=SEGMENT))[0]["s"]
    active = int(props["activeVersion"])
    oldest = await runs.oldest_kept_version(graph, SEGMENT, KEEP_VERSIONS, await _grace(graph)) or 0
    found = await graph.read(
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id "
        "RETURN sum(CASE WHEN m.since > $active THEN 1 ELSE 0 END) AS beyond, "
        "       sum(CASE WHEN m.until <= $oldest THEN 1 ELSE 0 END) AS expired",
        id=SEGMENT, active=active, oldest=oldest,
    )  # fmt: skip
    problems = [f"{found[0][k]} memberships {k}" for k in ("beyond", "expired") if found[0][k]]
    open_runs = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id}) WHERE r.finishedAt IS NULL RETURN count(r) AS n",
        id=SEGMENT,
    )
    if open_runs[0]["n"]:
        problems.append(f"{open_runs[0]['n']} runs never finished")
    kept = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id, status: 'SUCCESSFUL'}) WHERE r.version >= $oldest "
        "MATCH (d:_SegmentDefinition {segmentId: $id, version: r.definitionVersion}) "
        "RETURN r.version AS v, d.text AS text",
        id=SEGMENT, oldest=oldest,
    )  # fmt: skip
    for row in kept:
        members = await membership.read_members(graph, SEGMENT, int(row["v"]))
        if members != set(expected.of(row["text"])):
            problems.append(f"version {row['v']} holds {len(members)} members")
    return problems


async def _grace(graph: Graph) -> float:
    """The workers' GC grace (REFRESH_GC_GRACE_S) as it stood at the last switch, when the last
    collection ran: versions replaced within it since then are rightly still there."""
    grace = float(os.environ.get("REFRESH_GC_GRACE_S") or 0)
    if not grace:
        return 0.0
    found = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id, status: 'SUCCESSFUL'}) "
        "RETURN (datetime().epochMillis - max(r.finishedAt).epochMillis) / 1000.0 AS since",
        id=SEGMENT,
    )
    return grace + float(found[0]["since"])
