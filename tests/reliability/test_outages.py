"""Dependency outages: the real API (`segments serve`) and a real worker run against Neo4j and
Redis through TCP proxies while clients list segments, page and count members and ask for
refreshes. Redis is stopped, Neo4j is stopped, then the proxies add latency and reset every
connection, each for a while. Readiness must say unavailable within 3 s of each outage, no
answer may be a raw 5xx or an untyped error, and every refresh the API acknowledged must be
done by a run that started after it, once everything is back."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from arq.connections import ArqRedis

from bench.load.operations import COUNT, CREATE, LIST, MEMBERS, REFRESH, Outcome, call
from server.api.common import decode_gid
from server.refresh.graph import Graph
from server.services import neo4j as neo4j_service
from server.services import redis as redis_service
from server.settings import Settings
from server.store import Db
from tests.reliability import processes
from tests.reliability.customers import DEFINITION_A, DEFINITION_B, add_customers
from tests.reliability.figures import record, scale
from tests.reliability.proxy import Proxy

pytestmark = pytest.mark.anyio

HOLD_S = scale(4, 60)  # how long each fault lasts
CLIENTS = 4
SEGMENTS = 3
FLIP_S = 3.0
RECOVER_S = 180.0


@dataclass
class Traffic:
    outcomes: list[Outcome] = field(default_factory=list)
    acked: dict[str, datetime] = field(default_factory=dict)  # segment id -> last acknowledged
    phase: str = "before the faults"
    phases: list[str] = field(default_factory=list)  # the phase each outcome was sent in

    def add(self, outcome: Outcome, phase: str) -> None:
        self.outcomes.append(outcome)
        self.phases.append(phase)

    def failures(self) -> list[str]:
        pairs = zip(self.outcomes, self.phases, strict=True)
        return [f"{p}: {o.op} after {o.seconds:.1f} s: {o.failure}" for o, p in pairs if o.failure]


@dataclass
class Readiness:
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, status)
    unready: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, why)

    def first_unready(self, since: float) -> float | None:
        return next((t for t, s in self.samples if t >= since and s != 200), None)

    def why(self, at: float | None) -> str:
        return next((why for t, why in self.unready if t == at), "")


async def _client(api: httpx.AsyncClient, ids: list[str], traffic: Traffic, stop: asyncio.Event,
                  seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    while not stop.is_set():
        segment, phase = rng.choice(ids), traffic.phase
        roll = rng.random()
        if roll < 0.3:
            outcome = await call(api, "list", LIST, {"first": 20})
        elif roll < 0.6:
            outcome = await call(api, "members", MEMBERS, {"id": segment})
        elif roll < 0.85:
            outcome = await call(api, "count", COUNT, {"id": segment})
        else:
            asked = datetime.now(UTC)
            outcome = await call(api, "refresh", REFRESH, {"ids": [segment]})
            if outcome.ok and outcome.data["refreshSegments"]["jobId"]:
                traffic.acked[segment] = asked
        traffic.add(outcome, phase)
        await asyncio.sleep(0.05)


async def _watch(api: httpx.AsyncClient, readiness: Readiness, stop: asyncio.Event) -> None:
    while not stop.is_set():
        # Stamped when the probe was sent: one sent before a fault began (answered unready by
        # the phase before, e.g. a Neo4j still reconnecting) says nothing about that fault.
        sent = time.monotonic()
        try:
            answer = await api.get("/readyz", timeout=5)
            status, why = answer.status_code, answer.text
        except httpx.HTTPError as exc:
            status, why = 0, repr(exc)
        readiness.samples.append((sent, status))
        if status != 200:
            readiness.unready.append((sent, why[:300]))
        await asyncio.sleep(0.1)


async def _until_ready(api: httpx.AsyncClient, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if (await api.get("/readyz", timeout=5)).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    return False


def _stop_redis(settings: Settings, _: Proxy, __: Proxy) -> None:
    redis_service.stop(settings)


def _start_redis(settings: Settings, _: Proxy, __: Proxy) -> None:
    redis_service.start(settings)


def _stop_neo4j(settings: Settings, _: Proxy, __: Proxy) -> None:
    neo4j_service.stop(settings)


def _start_neo4j(settings: Settings, _: Proxy, __: Proxy) -> None:
    neo4j_service.start(settings)


def _slow(_: Settings, neo: Proxy, red: Proxy) -> None:
    neo.latency_s = red.latency_s = 0.2


def _fast(_: Settings, neo: Proxy, red: Proxy) -> None:
    neo.latency_s = red.latency_s = 0.0


def _resets(_: Settings, neo: Proxy, red: Proxy) -> None:
    neo.reset_all(True)
    red.reset_all(True)


def _no_resets(_: Settings, neo: Proxy, red: Proxy) -> None:
    neo.reset_all(False)
    red.reset_all(False)


Step = Callable[[Settings, Proxy, Proxy], None]
# (name, start the fault, end it, whether readiness must flip)
FAULTS: list[tuple[str, Step, Step, bool]] = [
    ("Redis stopped", _stop_redis, _start_redis, True),
    ("Neo4j stopped", _stop_neo4j, _start_neo4j, True),
    ("200 ms latency on every chunk", _slow, _fast, False),
    ("every connection reset", _resets, _no_resets, True),
]


async def _in_thread(step: Step, settings: Settings, neo: Proxy, red: Proxy) -> None:
    await asyncio.to_thread(step, settings, neo, red)


async def test_outages_give_typed_errors_flip_readiness_and_lose_no_refresh(
    stores: tuple[Db, Graph], arq_redis: ArqRedis, settings: Settings
) -> None:
    _, graph = stores
    await add_customers(graph, 2_000)
    neo = Proxy(("127.0.0.1", int(settings.neo4j_uri.rsplit(":", 1)[1]))).start()
    red = Proxy(("127.0.0.1", int(settings.redis_url.split(":")[2].split("/")[0]))).start()
    env = {"NEO4J_URI": f"bolt://127.0.0.1:{neo.port}", "REDIS_URL": f"redis://127.0.0.1:{red.port}/0",
           "REFRESH_LEASE_MS": "3000", "REFRESH_WORKER_TTL_S": "3"}  # fmt: skip
    app = processes.start(["serve", "--port", str(settings.api_port)], env)
    worker = processes.start(["worker"], env)
    traffic, readiness, stop = Traffic(), Readiness(), asyncio.Event()
    flips: dict[str, float | None] = {}
    unready_at: dict[str, float | None] = {}
    stopping: dict[str, float] = {}
    recovered: dict[str, bool] = {}
    worker_alive = False
    transactions: list[dict[str, object]] = []
    marks: list[str] = []
    owners: list[str] = []
    tasks: list[asyncio.Task[None]] = []
    base = f"http://127.0.0.1:{settings.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        try:
            assert await _until_ready(api, 120), app.tail()
            ids = [await _create(api, f"outage_{i}", (DEFINITION_A, DEFINITION_B)[i % 2])
                   for i in range(SEGMENTS)]  # fmt: skip
            for gid in ids:  # one acknowledged request per segment at least, before the faults
                asked = datetime.now(UTC)
                outcome = await call(api, "refresh", REFRESH, {"ids": [gid]})
                assert outcome.ok, outcome
                assert outcome.data["refreshSegments"]["jobId"], outcome
                traffic.acked[gid] = asked
            tasks = [asyncio.create_task(_client(api, ids, traffic, stop, i))
                     for i in range(CLIENTS)]  # fmt: skip
            tasks.append(asyncio.create_task(_watch(api, readiness, stop)))
            await asyncio.sleep(2)
            for name, start, end, _ in FAULTS:
                began, traffic.phase = time.monotonic(), name
                await _in_thread(start, settings, neo, red)
                down = time.monotonic()  # a stop returns once the process is gone
                await asyncio.sleep(HOLD_S)
                flip = unready_at[name] = readiness.first_unready(began)
                stopping[name] = down - began
                # From the moment the dependency is gone (a stop returns when its process has
                # exited; readiness may flip earlier, while it shuts down: 0 then).
                flips[name] = None if flip is None else max(0.0, flip - down)
                traffic.phase = f"{name}: recovering"
                await _in_thread(end, settings, neo, red)
                recovered[name] = await _until_ready(api, RECOVER_S)
                traffic.phase = f"after {name}"
            lost = await _lost_requests(graph, traffic.acked, RECOVER_S)
            worker_alive = worker.proc.poll() is None
            if lost and worker_alive:  # what is it waiting for? (server/task_dump.py)
                os.kill(worker.proc.pid, signal.SIGUSR1)
                await asyncio.sleep(1)
                transactions = await _transactions(graph)
                marks = sorted(k.decode() for k in await arq_redis.keys("arq:in-progress:*"))
                owners = sorted(k.decode() for k in await arq_redis.keys("segments:job-*"))
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            _no_resets(settings, neo, red)
            await asyncio.to_thread(redis_service.start, settings)
            await asyncio.to_thread(neo4j_service.start, settings)
            worker.stop()
            app.stop()
            neo.stop()
            red.stop()

    failures = traffic.failures()
    total = len(traffic.outcomes)
    typed = sum(1 for o in traffic.outcomes if "UNAVAILABLE" in o.codes)
    test = "Dependency outages"
    record(test, "raw 5xx or untyped errors (4 clients, all faults)", total,
           f"{len(failures)} of {total:,} answers; {typed:,} typed UNAVAILABLE", "0",
           not failures)  # fmt: skip
    for name, _, _, must_flip in FAULTS:
        took = flips[name]
        if must_flip:
            ok = took is not None and took < FLIP_S and recovered[name]
            shown = "never" if took is None else f"{took:.2f} s"
            result = (f"unready {shown} after it was gone (stopping took "
                      f"{stopping[name]:.1f} s); ready again: {recovered[name]}")  # fmt: skip
            record(test, f"{name} {HOLD_S} s: readiness flips", 1, result, f"< {FLIP_S:.0f} s", ok)
        else:
            ok = took is None and recovered[name]
            record(test, f"{name} {HOLD_S} s: readiness stays", 1,
                   "stayed ready" if took is None else "flipped", "stays ready", ok)  # fmt: skip
    record(test, "worker process survives every fault", 1,
           "running" if worker_alive else "exited", "running", worker_alive)  # fmt: skip
    record(test, "acknowledged refresh requests lost after recovery", len(traffic.acked),
           f"{len(lost)} of {len(traffic.acked)} segments", "0", not lost)  # fmt: skip
    assert not failures, failures[:5]
    assert all(recovered.values()), recovered
    for name, _, _, must_flip in FAULTS:
        took = flips[name]
        if must_flip:
            assert took is not None, name
            assert took < FLIP_S, (name, took)
        else:
            assert took is None, (name, took, readiness.why(unready_at[name]))
    assert worker_alive, worker.tail()
    assert not lost, (lost, marks, owners, transactions, worker.tail(400))


async def _create(api: httpx.AsyncClient, name: str, text: str) -> str:
    outcome = await call(api, "create", CREATE, {"input": {
        "name": name, "audience": "Customer", "definition": {"text": text}}})  # fmt: skip
    assert outcome.ok, outcome
    payload = outcome.data["createSegment"]
    assert not payload["userErrors"], payload
    return str(payload["segment"]["id"])


async def _lost_requests(graph: Graph, acked: dict[str, datetime], within: float) -> list[str]:
    """Acknowledged segments with no successful run started after their last acknowledgement,
    once `within` seconds have passed (the worker reconciles each minute)."""
    deadline = time.monotonic() + within
    pending = dict(acked)
    while pending and time.monotonic() < deadline:
        for gid, asked in list(pending.items()):
            if await _done_after(graph, gid, asked):
                del pending[gid]
        await asyncio.sleep(1)
    return sorted(pending)


async def _done_after(graph: Graph, gid: str, asked: datetime) -> bool:
    try:
        found = await graph.read(
            "MATCH (s:_Segment {id: $id})-[:_HAS_RUN]->(r:_SegmentRun {status: 'SUCCESSFUL'}) "
            "WHERE r.startedAt >= $asked RETURN count(r) AS n",
            id=decode_gid(gid, "Segment"), asked=asked,
        )  # fmt: skip
    except Exception:  # Neo4j still coming back
        return False
    return bool(found[0]["n"])


async def _transactions(graph: Graph) -> list[dict[str, object]]:
    """The transactions Neo4j runs now, for a failure's message."""
    found = await graph.read(
        "SHOW TRANSACTIONS YIELD transactionId, currentQuery, status, elapsedTime, clientAddress "
        "RETURN *"
    )
    return [dict(r) for r in found]
