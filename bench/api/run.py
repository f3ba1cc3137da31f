"""API latency on a large graph, GraphQL against a plain JSON endpoint, side by side.

    python -m bench.api.run            # 1M profiles, a ~500k-member segment, 1,000 segments
    python -m bench.api.run --short    # 20k profiles, ~10k members, 200 segments (CI)

Uses the Neo4j and Redis of the environment with a data model of its own (`bench/api/schema.yaml`,
label `BenchCustomer`, segments named `bench_*`), all removed at the end. The API runs as a real
uvicorn process (`bench.api.serve`) and is called over HTTP, one request at a time, so the
figures are latencies, not throughput. Measured:
- a member page (100 rows) at random depths of the large segment: GraphQL against the plain
  starlette endpoint calling the same store function (the ratio is GraphQL's overhead);
- the segments list (first 100 of all, by name and by last update; a name search);
- the estimate of `compileSegment` for a few definitions (exact counts, under a 0.9 s budget).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import neo4j

from graph_schema import load_schema
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.refresh import RefreshEnv, refresh_segment
from server.refresh.schema import ensure_refresh_schema
from server.settings import get_settings
from server.store.pages import encode_cursor

SCHEMA = Path(__file__).with_name("schema.yaml")
CITIES = ["Oslo", "Rome", "Lima", "Kyiv", "Pune", "Cork", "Nice", "Bern", "Riga", "Doha"]
LARGE = "segment BenchCustomer where satisfaction >= 50"
ESTIMATES = [
    LARGE,
    "segment BenchCustomer where city = 'Oslo'",
    "segment BenchCustomer where city in ('Rome', 'Lima') and balance > 500",
    "segment BenchCustomer where createdOn in the last 365 days and satisfaction < 20",
    "segment BenchCustomer where name contains '77'",
    "segment BenchCustomer where in segment bench_large and city = 'Kyiv'",
]
MEMBERS = """
query($id: ID!, $after: String) {
  segment(id: $id) { members(first: 100, after: $after) {
    edges { cursor node { key sinceVersion properties } } pageInfo { hasNextPage } totalCount } }
}
"""
LIST = """
query($order: SegmentOrderInput, $search: String) {
  segments(first: 100, orderBy: $order, search: $search) {
    totalCount edges { cursor node { id name displayName type state status memberCount tags
                                     lastRefreshedAt } } }
}
"""
CREATE = """
mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { id } userErrors { code message } }
}
"""
ESTIMATE = """
query($text: String!) {
  compileSegment(definition: {text: $text}) {
    valid estimate { count exact margin sampleSize elapsedMs }
  }
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(driver: neo4j.Driver, profiles: int) -> None:
    driver.execute_query("CREATE CONSTRAINT bench_customer_id IF NOT EXISTS "
                         "FOR (c:BenchCustomer) REQUIRE c.customerId IS UNIQUE")  # fmt: skip
    for name in ("city", "satisfaction", "balance", "createdOn"):
        driver.execute_query(  # names from this file's schema, not from input
            f"CREATE INDEX bench_customer_{name} IF NOT EXISTS FOR (c:BenchCustomer) ON (c.{name})"
        )
    step = 25_000
    for start in range(0, profiles, step):
        driver.execute_query(
            "UNWIND range($start, $end - 1) AS i "
            "CREATE (:BenchCustomer {customerId: 'b' + right('0000000' + toString(i), 8), "
            " name: 'Customer ' + i, email: 'c' + i + '@example.com', "
            " city: $cities[i % size($cities)], satisfaction: (i * 7919) % 100, "
            " balance: toFloat((i * 104729) % 100000) / 100.0, "
            " createdOn: date('2020-01-01') + duration({days: (i * 31) % 2500})})",
            start=start, end=min(start + step, profiles), cities=CITIES,
        )  # fmt: skip
        print(f"\r  profiles {min(start + step, profiles):,}/{profiles:,}", end="", flush=True)
    print()


def cleanup(driver: neo4j.Driver) -> None:
    found, _, _ = driver.execute_query(
        "MATCH (s:_Segment) WHERE s.name STARTS WITH 'bench_' RETURN collect(s.id) AS ids"
    )
    ids = found[0]["ids"]
    with driver.session() as session:
        session.run("MATCH (c:BenchCustomer) CALL (c) { DETACH DELETE c } "
                    "IN TRANSACTIONS OF 10000 ROWS").consume()  # fmt: skip
        session.run("MATCH (s:_Segment)-[:_HAS_RUN|_HAS_DEFINITION]->(x) WHERE s.id IN $ids "
                    "DETACH DELETE x", ids=ids).consume()  # fmt: skip
        session.run("MATCH (s:_Segment) WHERE s.id IN $ids DETACH DELETE s", ids=ids).consume()


def start_api(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCHEMA_FILE": str(SCHEMA), "AUTH_REQUIRED": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "bench.api.serve", str(port)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit("the API did not become ready in 60 s")


class Client:
    def __init__(self, port: int) -> None:
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.http.post("/graphql", json={"query": query, "variables": variables}).json()
        if "errors" in body:
            raise SystemExit(f"GraphQL errors: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


def create_segments(client: Client, count: int) -> str:
    """`count` segments; returns the global id of the large one."""
    large = client.gql(CREATE, input={"name": "bench_large", "audience": "BenchCustomer",
                                      "definition": {"text": LARGE}})  # fmt: skip
    for i in range(count - 1):
        city = CITIES[i % len(CITIES)]
        text = f"segment BenchCustomer where city = '{city}' and satisfaction > {i % 90}"
        client.gql(CREATE, input={"name": f"bench_{i:04d}", "audience": "BenchCustomer",
                                  "tags": [f"t{i % 7}"], "definition": {"text": text}})  # fmt: skip
        if i % 100 == 0:
            print(f"\r  segments {i + 1:,}/{count:,}", end="", flush=True)
    print()
    gid: str = large["createSegment"]["segment"]["id"]
    return gid


async def refresh_large(segment_gid: str) -> int:
    """Fill the large segment with the real refresh engine (as a worker would)."""
    segment_id = store_id(segment_gid)
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    )
    graph = Graph(driver, settings.neo4j_database)
    await ensure_refresh_schema(graph)

    async def publish(event: dict[str, Any]) -> None:
        if event.get("phase") == "WRITING":
            print(f"\r  refresh: writing {event.get('percent', 0)}%", end="", flush=True)

    env = RefreshEnv(graph=graph, compiler=grammar_compiler(load_schema(SCHEMA)), publish=publish)
    outcome = await refresh_segment(env, segment_id, "MANUAL")
    await driver.close()
    print()
    if outcome.member_count is None:
        raise SystemExit(f"refresh failed: {outcome}")
    return outcome.member_count


def timed(call: Callable[[], object], runs: int) -> list[float]:
    found = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        found.append((time.perf_counter() - start) * 1000)
    return found


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))]


def report(name: str, values: list[float]) -> tuple[float, float]:
    p50, p99 = statistics.median(values), pct(values, 0.99)
    print(f"  {name:<44} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   (n={len(values)})")
    return p50, p99


def store_id(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]


def member_cursors(
    segment_gid: str, keys: list[str], n: int, rng: random.Random
) -> list[str | None]:
    """Cursors at random depths (the first page too), as a client paging there would hold."""
    scope = f"members:{store_id(segment_gid)}"
    picks = [None, *rng.sample(keys, n - 1)]
    return [None if k is None else encode_cursor(scope, k, k) for k in picks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="small sizes, for CI")
    parser.add_argument("--keep", action="store_true", help="keep the data (to profile)")
    args = parser.parse_args()
    profiles, segments, samples = (20_000, 200, 60) if args.short else (1_000_000, 1_000, 400)
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
    )
    rng = random.Random(7)
    cleanup(driver)
    print(f"setup: {profiles:,} profiles, {segments:,} segments")
    seed(driver, profiles)
    port = free_port()
    api = start_api(port)
    try:
        client = Client(port)
        large = create_segments(client, segments)
        members = asyncio.run(refresh_large(large))
        driver.execute_query("CALL db.resampleOutdatedIndexes()")
        found, _, _ = driver.execute_query(
            "MATCH (c:BenchCustomer) WHERE c.satisfaction >= 50 RETURN c.customerId AS k"
        )
        keys = [r["k"] for r in found]
        print(f"measure: large segment {members:,} members\n")
        cursors = member_cursors(large, keys, samples, rng)
        large_id = store_id(large)
        plain = client.http

        def graphql_page() -> None:
            client.gql(MEMBERS, id=large, after=rng.choice(cursors))

        def plain_page() -> None:
            after = rng.choice(cursors)
            params = {"after": after} if after else {}
            plain.get(f"/plain/members/{large_id}", params=params).raise_for_status()

        for warm in (graphql_page, plain_page):
            timed(warm, 20)
        # Interleaved in rounds so both see the same machine.
        gql_times: list[float] = []
        plain_times: list[float] = []
        for _ in range(samples // 20):
            gql_times += timed(graphql_page, 20)
            plain_times += timed(plain_page, 20)
        g50, g99 = report("member page, GraphQL", gql_times)
        p50, p99 = report("member page, plain starlette JSON", plain_times)
        print(f"  GraphQL / plain: p50 x{g50 / p50:.2f}, p99 x{g99 / p99:.2f}\n")

        by = {"field": "NAME", "direction": "ASC"}
        updated = {"field": "UPDATED_AT", "direction": "DESC"}
        timed(lambda: client.gql(LIST, order=by), 10)
        report(f"segments list, first 100 of {segments:,} by name",
               timed(lambda: client.gql(LIST, order=by), samples // 2))  # fmt: skip
        report("segments list, by last update",
               timed(lambda: client.gql(LIST, order=updated), samples // 2))  # fmt: skip
        report("segments list, name search",
               timed(lambda: client.gql(LIST, search="bench_01"), samples // 2))  # fmt: skip
        print()
        client.gql(ESTIMATE, text=ESTIMATES[0])  # draws the audience's sample (kept)
        time.sleep(5)
        for text in ESTIMATES:
            client.gql(ESTIMATE, text=text)  # warm the plan cache
            wall = timed(lambda text=text: client.gql(ESTIMATE, text=text), 5)  # type: ignore[misc]
            est = client.gql(ESTIMATE, text=text)["compileSegment"]["estimate"]
            what = text.removeprefix("segment BenchCustomer ")
            margin = f"+-{est['margin']}" if est["margin"] else ""
            print(
                f"  estimate {statistics.median(wall):7.1f} ms  count {est['count']!s:>9} "
                f"{margin:<8} exact {est['exact']!s:<5}  {what}"
            )
    finally:
        api.terminate()
        api.wait(timeout=30)
        if not args.keep:
            cleanup(driver)
        driver.close()


if __name__ == "__main__":
    main()
