"""Import idempotency: the demo data imported twice by the real `segments import` gives the
same graph; an import SIGKILLed at a random moment and run again gives that same graph, with
no duplicate node or relationship."""

from __future__ import annotations

import hashlib
import random
import time
from datetime import date
from pathlib import Path

import neo4j

from graph_schema import default_schema
from graph_schema.demo import generate_demo
from tests.reliability import processes
from tests.reliability.figures import record, scale

CUSTOMERS = scale(1_000, 10_000)
KILLS = scale(1, 3)
TEST = "Import idempotency"


def fingerprint(driver: neo4j.Driver) -> tuple[str, int]:
    """(a hash of every node and relationship with its properties, endpoints by their key;
    how many of them are duplicates: nodes sharing label and key, identical relationships)."""
    keys = sorted({e.key for e in default_schema().entities})
    nodes = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p", routing_=neo4j.RoutingControl.READ
    ).records
    rels = driver.execute_query(
        "MATCH (a)-[e]->(b) RETURN type(e) AS t, properties(e) AS p, "
        "labels(a)[0] + ':' + toString([k IN $keys WHERE a[k] IS NOT NULL | a[k]][0]) AS a, "
        "labels(b)[0] + ':' + toString([k IN $keys WHERE b[k] IS NOT NULL | b[k]][0]) AS b",
        keys=keys, routing_=neo4j.RoutingControl.READ,
    ).records  # fmt: skip
    node_lines = [repr((sorted(r["l"]), sorted(r["p"].items()))) for r in nodes]
    identities = [
        (tuple(sorted(r["l"])), next((r["p"][k] for k in keys if k in r["p"]), None))
        for r in nodes
    ]
    rel_lines = [repr((r["t"], r["a"], r["b"], sorted(r["p"].items()))) for r in rels]
    duplicates = len(identities) - len(set(identities)) + len(rel_lines) - len(set(rel_lines))
    digest = hashlib.sha256("\n".join(sorted(node_lines) + sorted(rel_lines)).encode())
    return digest.hexdigest(), duplicates


def _size(driver: neo4j.Driver) -> int:
    """Nodes plus relationships (from Neo4j's count store: cheap to ask often)."""
    nodes = driver.execute_query("MATCH (n) RETURN count(n) AS c").records[0]["c"]
    rels = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS c").records[0]["c"]
    return int(nodes) + int(rels)


def _until_size(driver: neo4j.Driver, size: int, deadline: float) -> None:
    """Wait until the graph holds `size` nodes and relationships (a random point of an import)."""
    until = time.monotonic() + deadline
    while _size(driver) < size and time.monotonic() < until:
        time.sleep(0.02)


def _import(folder: Path) -> float:
    started = time.monotonic()
    proc = processes.start(["import", str(folder)])
    assert proc.proc.wait(600) == 0, proc.tail()
    return time.monotonic() - started


def test_importing_twice_or_after_a_kill_gives_the_same_graph(
    empty_graph: neo4j.Driver, tmp_path: Path
) -> None:
    from tests.conftest import wipe_graph

    folder = tmp_path / "demo"
    generate_demo(folder, customers=CUSTOMERS, seed=3, today=date(2026, 6, 1))
    took = _import(folder)
    clean, clean_dups = fingerprint(empty_graph)
    _import(folder)
    twice, twice_dups = fingerprint(empty_graph)
    record(TEST, f"import twice ({CUSTOMERS:,} demo customers)", 2,
           f"{'identical' if twice == clean else 'DIFFERENT'} graph; {twice_dups} duplicates",
           "identical; 0 duplicates", twice == clean and twice_dups == 0)  # fmt: skip

    rng = random.Random(5)
    full = _size(empty_graph)
    mismatches, dups, cut_short = 0, 0, 0
    for _ in range(KILLS):
        wipe_graph(empty_graph)
        proc = processes.start(["import", str(folder)])
        _until_size(empty_graph, int(rng.uniform(0.05, 0.95) * full), deadline=took * 3)
        proc.kill()
        cut_short += _size(empty_graph) < full  # it really died half-way
        _import(folder)
        after, after_dups = fingerprint(empty_graph)
        mismatches += after != clean
        dups += after_dups
    record(TEST, "import SIGKILLed at a random point, then run again", KILLS,
           f"{mismatches} graphs differ from a clean import; {dups} duplicates; "
           f"{cut_short} of {KILLS} kills landed mid-import", "0; 0",
           mismatches == 0 and dups == 0)  # fmt: skip
    assert twice == clean
    assert clean_dups == 0
    assert twice_dups == 0
    assert mismatches == 0
    assert dups == 0
    assert cut_short > 0
