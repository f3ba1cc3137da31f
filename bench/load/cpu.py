"""API CPU per request: the real app in this process through httpx's ASGI transport, no server.

    python -m bench.load.cpu                  # every operation of bench/load, 400 requests each
    python -m bench.load.cpu --profile out.prof --op members
    python -m bench.load.cpu --baseline main  # this tree against a commit, side by side

Needs the `load_*` segments of `bench.load.run` (run it once first). Each operation is sent
`--requests` times, `--concurrency` at a time, after a warm-up; the figure is this process's CPU
time (app, strawberry, the driver's decoding) per request, and wall time per request beside it.
Neo4j's own CPU is in its own process and not counted. With `--profile`, cProfile covers the
measured requests and its file opens in snakeviz or `python -m pstats`. With `--baseline REV`,
the commit's tree (`git archive`) and this one run alternately in fresh processes, `--rounds`
times each, and the medians are printed with their ratio: on a shared machine only figures of
the same run compare.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.load.operations import COMPILE, COUNT, LIST, MEMBERS
from bench.load.run import TEXTS
from server.app import create_app
from server.settings import REPO_ROOT, get_settings

# httpx's ASGI transport tries `import sniffio` on every request; absent, each failed import
# searches sys.path again. None in sys.modules fails it at once (bench-side cost only).
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

Variables = Callable[[int], dict[str, Any]]


def _with_state(app: ASGIApp, state: dict[str, Any]) -> ASGIApp:
    """What uvicorn does with a lifespan's state: a shallow copy in every request's scope."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    return wrapped


@asynccontextmanager
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(get_settings())
    async with app.router.lifespan_context(app) as state:
        transport = httpx.ASGITransport(app=_with_state(app, dict(state or {})))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as api:
            yield api


async def _segment_ids(api: httpx.AsyncClient) -> list[str]:
    query = '{ segments(first: 100, search: "load_") { edges { node { id } } } }'
    body = (await api.post("/graphql", json={"query": query})).json()
    ids = [e["node"]["id"] for e in body["data"]["segments"]["edges"]]
    if not ids:
        raise SystemExit("no load_* segments: run `python -m bench.load.run --short` once")
    return ids


def operations(ids: list[str]) -> dict[str, tuple[str, Variables]]:
    return {
        "list": (LIST, lambda i: {"first": 20}),
        "members": (MEMBERS, lambda i: {"id": ids[i % len(ids)], "after": None}),
        "count": (COUNT, lambda i: {"id": ids[i % len(ids)]}),
        "compile": (COMPILE, lambda i: {"text": TEXTS[i % len(TEXTS)]}),
    }


async def _send(api: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> None:
    response = await api.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")


async def _batch(api: httpx.AsyncClient, query: str, variables: Variables, n: int,
                 concurrency: int) -> None:  # fmt: skip
    for start in range(0, n, concurrency):
        await asyncio.gather(*(_send(api, query, variables(i))
                               for i in range(start, min(n, start + concurrency))))  # fmt: skip


async def measure(ops: list[str], n: int, concurrency: int,
                  profile: cProfile.Profile | None) -> dict[str, tuple[float, float]]:  # fmt: skip
    """(CPU ms, wall ms) per request of each operation."""
    found: dict[str, tuple[float, float]] = {}
    async with client() as api:
        table = operations(await _segment_ids(api))
        for op in ops:
            query, variables = table[op]
            await _batch(api, query, variables, max(20, n // 10), concurrency)  # warm-up
            cpu, wall = time.process_time(), time.perf_counter()
            if profile:
                profile.enable()
            await _batch(api, query, variables, n, concurrency)
            if profile:
                profile.disable()
            found[op] = ((time.process_time() - cpu) * 1000 / n,
                         (time.perf_counter() - wall) * 1000 / n)  # fmt: skip
    return found


def _tree_of(rev: str, into: str) -> str:
    """The files of commit `rev` under `into` (git archive; the repository is not touched)."""
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", rev],
                             check=True, capture_output=True).stdout  # fmt: skip
    with tempfile.TemporaryFile() as raw:
        raw.write(archive)
        raw.seek(0)
        with tarfile.open(fileobj=raw) as tar:
            tar.extractall(into, filter="data")
    return into


def _run_tree(tree: str, args: list[str]) -> dict[str, list[float]]:
    """One measuring process of the app in `tree` (this file's own code drives it)."""
    env = os.environ | {"PYTHONPATH": tree}
    command = [sys.executable, __file__, "--json", *args]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    found: dict[str, list[float]] = json.loads(out.splitlines()[-1])
    return found


def compare(rev: str, rounds: int, args: list[str]) -> None:
    """`rev` against this tree, alternating, `rounds` processes each; medians and ratios."""
    runs: dict[str, list[dict[str, list[float]]]] = {rev: [], "this tree": []}
    with tempfile.TemporaryDirectory(prefix="load-baseline-") as folder:
        trees = {rev: _tree_of(rev, folder), "this tree": str(REPO_ROOT)}
        for i in range(rounds):
            for name, tree in trees.items():
                runs[name].append(_run_tree(tree, args))
                print(f"round {i + 1}/{rounds}: {name} done", flush=True)
    ops = list(runs[rev][0])
    print(f"{'operation':<10} {'CPU ms/req ' + rev:>22} {'this tree':>10} {'ratio':>6}")
    for op in ops:
        before = statistics.median(r[op][0] for r in runs[rev])
        after = statistics.median(r[op][0] for r in runs["this tree"])
        print(f"{op:<10} {before:>22.2f} {after:>10.2f} {after / before:>6.2f}")


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--op", nargs="+", default=["list", "members", "count", "compile"])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--profile", help="write a cProfile of the measured requests here")
    parser.add_argument("--baseline", help="a commit to measure side by side with this tree")
    parser.add_argument("--rounds", type=int, default=3, help="processes per tree (--baseline)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline:
        passed = ["--op", *args.op, "--requests", str(args.requests),
                  "--concurrency", str(args.concurrency)]  # fmt: skip
        compare(args.baseline, args.rounds, passed)
        return {}
    profile = cProfile.Profile() if args.profile else None
    found = asyncio.run(measure(args.op, args.requests, args.concurrency, profile))
    if profile:
        profile.dump_stats(args.profile)
    if args.json:
        print(json.dumps(found))
        return found
    print(f"{'operation':<10} {'CPU ms/req':>10} {'wall ms/req':>11}")
    for op, (cpu, wall) in found.items():
        print(f"{op:<10} {cpu:>10.2f} {wall:>11.2f}")
    return found


if __name__ == "__main__":
    main()
