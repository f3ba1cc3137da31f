"""Load on the API: many concurrent clients on loopback, mixed operations, while a refresh runs.

    python -m bench.load.run           # 100k demo customers; 50 then 200 clients, 5 min each
    python -m bench.load.run --short   # 10k demo customers; 50 clients, 20 s (CI runs this)
    python -m bench.load.run --no-import --clients 50 --seconds 300 --out load-50.json
    RELIABILITY_LONG=1 python -m bench.load.run --no-import --record   # figures for the docs

Uses the Neo4j and Redis of the environment: imports the demo data when the graph holds fewer
customers than asked (with `--no-import` it stops instead: for a graph loaded beforehand, e.g.
by `segments import <folder> --bulk`, which is far faster than the online import), and uses the
graph as it is when it holds at least as many (the customers found are printed). It creates
the `load_*` segments it needs (kept for the next run), and runs
a real API (`segments serve`) and a real worker as processes. Each client is an asyncio loop of
requests on its own keep-alive connection (`bench.load.wire`, lean beside httpx: the generator
shares the cores it measures) with no pause (closed loop): segments list, member pages (each
client walks a segment's pages in order), member counts and `compileSegment` (compile only, no
estimate), while the largest segment is refreshed again as soon as its last refresh is done.
Bounded in time: every level stops after its duration. Prints req/s, p50/p95/p99 per operation
and the error rate, and returns them for the reliability figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import neo4j

from bench.load.operations import COMPILE, COUNT, CREATE, LIST, MEMBERS, REFRESH, Outcome, call
from bench.load.wire import Wire, call_wire
from graph_schema import default_schema
from graph_schema.demo import generate_demo
from graph_schema.importer import import_directory
from server.services import neo4j as neo4j_service
from server.settings import get_settings
from tests.reliability import processes

SEGMENTS = {
    "load_big": "segment Customer where satisfaction >= 30",  # ~70 %: the one kept refreshing
    "load_gold": 'segment Customer where loyaltyTier = "gold"',
    "load_news": "segment Customer where newsletter is true and doNotContact is false",
    "load_low": "segment Customer where satisfaction < 20",
}
TEXTS = [
    'segment Customer where city = "Oslo" and newsletter is true',
    "segment Customer where satisfaction >= 70 and creditBalance > 100",
    'segment Customer where loyaltyTier in ("gold", "platinum") and any Order (total > 200)',
]
OPS: dict[str, float] = {"list": 0.25, "members": 0.35, "count": 0.25, "compile": 0.15}


@dataclass
class Level:
    clients: int
    seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    refreshes_done: int = 0
    cpu_ms: dict[str, float] = field(default_factory=dict)  # process -> CPU ms per request

    def failures(self) -> list[str]:
        """What went wrong with each answer that was not ok."""
        return [f"{o.op}: HTTP {o.status} {o.failure or ','.join(o.codes)}"
                for o in self.outcomes if not o.ok]  # fmt: skip

    def stats(self) -> dict[str, dict[str, float]]:
        by_op: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            by_op[o.op].append(o)
        return {op: _summary(found, self.seconds) for op, found in sorted(by_op.items())}


def _summary(found: list[Outcome], seconds: float) -> dict[str, float]:
    ms = sorted(o.seconds * 1000 for o in found)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"n": len(found), "rps": len(found) / seconds, "p50": q[49], "p95": q[94],
            "p99": q[98], "errors": sum(not o.ok for o in found) / len(found)}  # fmt: skip


def ensure_demo(customers: int, may_import: bool = True) -> int:
    """Import the demo data when the graph holds fewer customers than asked (or, when it may
    not, stop). Returns the customers the graph holds."""
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        have = int(driver.execute_query("MATCH (c:Customer) RETURN count(c) AS n").records[0]["n"])
        print(f"the graph holds {have:,} customers ({customers:,} asked)", flush=True)
        if have >= customers:
            return have
        if not may_import:
            raise SystemExit(
                f"--no-import: the graph holds {have:,} customers, fewer than {customers:,}; "
                "load it first (segments import <folder> --bulk)"
            )
        folder = settings.data_dir / f"demo-{customers}-0"
        print(f"importing {customers:,} demo customers (the graph holds {have:,})", flush=True)
        if not (folder / "summary.json").exists():  # generated by an earlier run: same data
            generate_demo(folder, customers=customers, seed=0, today=date(2026, 6, 1))
            (folder / "summary.json").write_text(json.dumps({"customers": customers}))
        import_directory(driver, default_schema(), folder)
        return customers


async def _segment_ids(api: httpx.AsyncClient) -> dict[str, str]:
    """The GraphQL ids of the load segments, created when missing."""
    query = '{ segments(first: 100, search: "load_") { edges { node { id name } } } }'
    found = await call(api, "list", query, {})
    have = {e["node"]["name"]: e["node"]["id"] for e in found.data["segments"]["edges"]}
    for name, text in SEGMENTS.items():
        if name not in have:
            made = await call(api, "create", CREATE, {"input": {
                "name": name, "audience": "Customer", "definition": {"text": text}}})  # fmt: skip
            if not made.ok or made.data["createSegment"]["userErrors"]:
                raise RuntimeError(f"could not create {name}: {made}")
            have[name] = made.data["createSegment"]["segment"]["id"]
    return {name: have[name] for name in SEGMENTS}


async def _status(api: httpx.AsyncClient, gid: str) -> str:
    found = await call(api, "count", COUNT, {"id": gid})
    return str(found.data["segment"]["status"]) if found.ok else "?"


async def _refresh_all(api: httpx.AsyncClient, ids: dict[str, str], within: float) -> None:
    await call(api, "refresh", REFRESH, {"ids": list(ids.values())})
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all([await _status(api, gid) == "SUCCESSFUL" for gid in ids.values()]):
            return
        await asyncio.sleep(1)
    raise RuntimeError("the load segments did not refresh in time")


async def _client(wire: Wire, ids: list[str], level: Level, until: float, seed: int) -> None:
    try:
        await _requests(wire, ids, level, until, seed)
    finally:
        await wire.close()


async def _requests(wire: Wire, ids: list[str], level: Level, until: float, seed: int) -> None:
    rng = random.Random(seed)
    segment, after = rng.choice(ids), None
    names, weights = list(OPS), list(OPS.values())
    while time.monotonic() < until:
        op = rng.choices(names, weights)[0]
        if op == "list":
            outcome = await call_wire(wire, op, LIST, {"first": 20})
        elif op == "members":
            outcome = await call_wire(wire, op, MEMBERS, {"id": segment, "after": after})
            page: dict[str, Any] = ((outcome.data or {}).get("segment") or {}) if outcome.ok else {}
            members = page.get("members") or {"edges": [], "pageInfo": {}}
            if members["edges"] and members["pageInfo"].get("hasNextPage"):
                after = members["edges"][-1]["cursor"]
            else:
                segment, after = rng.choice(ids), None
        elif op == "count":
            outcome = await call_wire(wire, op, COUNT, {"id": rng.choice(ids)})
        else:
            outcome = await call_wire(wire, op, COMPILE, {"text": rng.choice(TEXTS)})
        # Kept without its parsed body: 5 minutes of member pages held 2.5 GB in this process,
        # and its own full collections then paused every client it measures.
        level.outcomes.append(replace(outcome, data=None))


async def _keep_refreshing(api: httpx.AsyncClient, gid: str, level: Level, until: float) -> None:
    """Ask for a refresh of `gid` again each time the last one is done."""
    while time.monotonic() < until:
        if await _status(api, gid) in ("SUCCESSFUL", "FAILED", "CANCELLED"):
            level.refreshes_done += 1
            await call(api, "refresh", REFRESH, {"ids": [gid]})
        await asyncio.sleep(0.5)


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _descendants(pid: int) -> list[int]:
    """Every live process under `pid` (uvicorn's worker processes under its supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(entry.name)):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU so far of a process and its live descendants (Linux /proc; 0 where
    unreadable). The children count because `--api-workers 2` serves from two children of a
    supervisor that itself idles; they live through a whole level, so before and after see
    the same ones."""
    if pid is None:
        return 0.0
    ticks = 0
    for one in [pid, *_descendants(pid)]:
        if fields := _stat(one):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _pids(app: processes.Process, worker: processes.Process) -> dict[str, int | None]:
    """The processes whose CPU a level reports, each with its descendants: the API (every
    process of it), the worker and our Neo4j."""
    return {"api": app.proc.pid, "worker": worker.proc.pid,
            "neo4j": neo4j_service.status(get_settings()).pid}  # fmt: skip


async def run_levels(levels: list[Level], port: int, api_workers: int = 1,
                     tree: Path | None = None) -> list[Level]:  # fmt: skip
    """Each level against a fresh API and worker (from the source `tree`, default this one)."""
    env = {"API_PORT": str(port), "API_WORKERS": str(api_workers)}
    where = {"cwd": tree} if tree else {}
    if tree:
        env["PYTHONPATH"] = str(tree)
    app = processes.start(["serve", "--port", str(port)], env, **where)
    worker = processes.start(["worker"], env, **where)
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                     limits=limits) as api:  # fmt: skip
            await _wait_ready(api, app)
            ids = await _segment_ids(api)
            await _refresh_all(api, ids, 600)
            for level in levels:
                until = time.monotonic() + level.seconds
                print(f"{level.clients} clients for {level.seconds:.0f} s", flush=True)
                tasks = [_client(Wire("127.0.0.1", port), list(ids.values()), level, until, i)
                         for i in range(level.clients)]  # fmt: skip
                pids = _pids(app, worker)
                before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
                ours = time.process_time()  # the generator's own CPU shares the cores too
                await asyncio.gather(*tasks, _keep_refreshing(api, ids["load_big"], level, until))
                done = max(1, len(level.outcomes))
                level.cpu_ms = {name: (_cpu_seconds(pid) - before[name]) * 1000 / done
                                for name, pid in pids.items()}  # fmt: skip
                level.cpu_ms["generator"] = (time.process_time() - ours) * 1000 / done
                print_level(level)
    finally:
        worker.stop()
        app.stop()
    return levels


async def _wait_ready(api: httpx.AsyncClient, app: processes.Process) -> None:
    for _ in range(600):
        try:
            if (await api.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the API never became ready:\n{app.tail()}")


def print_level(level: Level) -> None:
    total = len(level.outcomes)
    errors = sum(not o.ok for o in level.outcomes)
    print(f"  {level.clients} clients: {total / level.seconds:,.0f} req/s, "
          f"errors {errors}/{total}, refreshes done {level.refreshes_done}")  # fmt: skip
    if level.cpu_ms:
        shown = ", ".join(f"{name} {ms:.2f}" for name, ms in level.cpu_ms.items())
        print(f"  CPU ms per request: {shown} (the worker's is its refreshes)")
    for failed in level.failures()[:5]:
        print(f"  error: {failed}")
    head = ("operation", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
    print("  {:<10} {:>8} {:>8} {:>8} {:>8} {:>7}".format(*head))
    for op, s in level.stats().items():
        print(f"  {op:<10} {s['rps']:>8.1f} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['p99']:>8.1f} "
              f"{s['errors']:>7.2%}")  # fmt: skip


def main(argv: list[str] | None = None) -> list[Level]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", action="store_true", help="10k customers, 50 clients, 20 s")
    parser.add_argument("--customers", type=int)
    parser.add_argument("--clients", type=int, nargs="+")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--port", type=int, default=get_settings().api_port)
    parser.add_argument("--api-workers", type=int, default=get_settings().api_workers,
                        help="API processes (segments serve --workers)")  # fmt: skip
    parser.add_argument("--no-import", action="store_true",
                        help="stop if the graph holds fewer customers than asked")  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--record", action="store_true",
                        help="append the figures to the reliability results of this mode "
                             "(RELIABILITY_LONG=1: long), for docs/reliability.md")  # fmt: skip
    parser.add_argument("--tree", type=Path,
                        help="serve from this source tree (a baseline, e.g. `git archive main`) "
                             "with this generator")  # fmt: skip
    args = parser.parse_args(argv)
    customers = args.customers or (10_000 if args.short else 100_000)
    clients = args.clients or ([50] if args.short else [50, 200])
    seconds = args.seconds or (20.0 if args.short else 300.0)
    levels = measure(customers, clients, seconds, args.port, args.api_workers,
                     may_import=not args.no_import, tree=args.tree)  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(as_json(levels), indent=2) + "\n")
    if args.record:
        from bench.load.figures import record_levels  # it imports this module

        setup = f"{args.api_workers} API processes" if args.api_workers > 1 else ""
        record_levels(levels, customers, setup)
    return levels


def measure(customers: int, clients: list[int], seconds: float, port: int,
            api_workers: int = 1, may_import: bool = True,
            tree: Path | None = None) -> list[Level]:  # fmt: skip
    """Import the demo data if needed, then run each level of clients for `seconds`."""
    ensure_demo(customers, may_import)
    levels = [Level(c, seconds) for c in clients]
    return asyncio.run(run_levels(levels, port, api_workers, tree))


def as_json(levels: list[Level]) -> list[dict[str, Any]]:
    return [{"clients": lv.clients, "seconds": lv.seconds, "ops": lv.stats(),
             "refreshes": lv.refreshes_done, "cpu_ms": lv.cpu_ms} for lv in levels]  # fmt: skip


if __name__ == "__main__":
    main()
