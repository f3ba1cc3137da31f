"""Similar customers: quality on the demo's planted cohorts, and speed at scale.

    python -m bench.expansion.run                    # 10k demo customers; 50k source / 1M
    python -m bench.expansion.run --customers 5000 --source 5000 --population 100000
    python -m bench.expansion.run --reuse            # keep the demo graph of a previous run

1. quality: the demo (seed 3) is imported into the Neo4j of NEO4J_URI (the database is wiped);
   for each planted cohort, (a) the whole cohort as the source: the holdout lift the segment
   reports; (b) half the cohort as the source: the share of the other half (unknown
   look-alikes in the population) in the output at the default 20%, against random;
2. speed: a source of N synthetic rows against a population of M (50 features with a planted
   group): the hidden fifth, one training, scoring, the holdout measure and the output pick,
   as a run does them.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

import neo4j
import numpy as np

from graph_schema import default_schema
from graph_schema.demo import generate_demo
from graph_schema.importer import import_directory
from scoring.expansion import holdout_quality, output_size, select_output
from scoring.similarity import score_similarity
from server.expansion.expand import Expansion, expand_groups
from server.refresh.graph import Graph
from server.refresh.records import ExpansionSpec
from server.settings import get_settings
from tests.conftest import wipe_graph

TODAY = dt.date(2026, 11, 1)
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
COHORTS_SHOWN = 4


def import_demo(customers: int, reuse: bool) -> dict[str, list[str]]:
    """Cohort name -> customer keys (the demo's side file)."""
    settings = get_settings()
    folder = Path(tempfile.gettempdir()) / f"expansion-demo-{customers}"
    if not reuse:
        generate_demo(folder, customers=customers, seed=3, today=TODAY)
        with neo4j.GraphDatabase.driver(
            settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
        ) as driver:
            wipe_graph(driver)
            started = time.perf_counter()
            import_directory(driver, default_schema(), folder)
            print(f"imported {customers} demo customers in {time.perf_counter() - started:.1f} s")
    cohorts: dict[str, list[str]] = {}
    with (folder / "cohorts.csv").open() as fh:
        for row in csv.DictReader(fh):
            cohorts.setdefault(row["cohort"], []).append(row["customerId"])
    return cohorts


async def quality(customers: int, reuse: bool) -> None:
    cohorts = import_demo(customers, reuse)
    settings = get_settings()
    driver = neo4j.AsyncGraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    )
    graph = Graph(driver, settings.neo4j_database)
    found = await graph.read("MATCH (c:Customer) RETURN c.customerId AS k")
    everyone = sorted(r["k"] for r in found)
    spec = ExpansionSpec(source_id="", features=(), population_id=None, output_percent=20,
                         include_source=False)  # fmt: skip
    print("cohort | size | holdout lift (whole cohort) | half as source: twins found, lift | s")
    for name in sorted(cohorts)[:COHORTS_SHOWN]:
        members = sorted(cohorts[name])
        whole = await _run(graph, members, everyone, spec)
        half, twins = members[::2], set(members[1::2])
        halved = await _run(graph, half, everyone, spec)
        hits = len(halved.members & twins)
        population = len(everyone) - len(half)
        lift = (hits / max(1, len(halved.members))) / (len(twins) / population)
        print(f"{name} | {len(members)} | {whole.summary['holdout']['lift']:.1f} | "
              f"{hits}/{len(twins)} in {len(halved.members)}, {lift:.1f}x | "
              f"{halved.summary['seconds']}")  # fmt: skip
    await driver.close()


async def _run(
    graph: Graph, source: list[str], everyone: list[str], spec: ExpansionSpec
) -> Expansion:
    known = set(source)
    population = [k for k in everyone if k not in known]
    return await expand_groups(graph, default_schema(), "Customer", source, population, spec, NOW)


def speed(source_n: int, population_n: int, features: int = 50) -> None:
    """As a run does it: a fifth of the source hidden among the population, one training on
    the rest, every row scored, the holdout measured and the output picked."""
    rng = np.random.default_rng(0)
    population = rng.lognormal(1, 1, size=(population_n, features))
    planted = rng.random(population_n) < 0.05
    population[planted, :5] += 3
    source = rng.lognormal(1, 1, size=(source_n, features))
    source[:, :5] += 3
    started, cpu = time.perf_counter(), time.process_time()
    hidden = source[: source_n // 5]
    scored = score_similarity(source[source_n // 5 :], np.vstack([population, hidden]))
    q = holdout_quality(scored.population[population_n:], scored.population[:population_n], 20)
    picked = select_output(scored.population[:population_n], output_size(population_n, 20))
    total = time.perf_counter() - started
    print(f"speed: source {source_n:,} / population {population_n:,} x {features}: train + "
          f"score + holdout + pick {total:.1f} s ({time.process_time() - cpu:.1f} CPU s); "
          f"output {len(picked):,}, holdout lift {q.lift:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--source", type=int, default=50_000)
    parser.add_argument("--population", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    if not args.skip_demo:
        asyncio.run(quality(args.customers, args.reuse))
    speed(args.source, args.population)


if __name__ == "__main__":
    main()
