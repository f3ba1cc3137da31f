"""A stored points model's scoring run on N synthetic customers (the database is wiped).

    python -m bench.scoring.points_run --customers 100000

Seeds customers with 0-9 email events each, publishes the four-rule model of tests/leads
(ONCE, PER_MATCH with a cap, WHEN_NONE, PER_MATCH over a count), then times a first run
(every profile written, one history entry each) and a second run over unchanged data (reads
and compares only: nothing written).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from datetime import timedelta

import neo4j

from server.leads import store
from server.leads.run import ScoreEnv, score_model
from server.settings import get_settings
from server.store import Db, ensure_schema
from tests.conftest import wipe_graph
from tests.leads.conftest import NOW
from tests.leads.test_run import SCHEMA, SPEC


def seed(driver: neo4j.Driver, n: int, batch: int = 20_000) -> int:
    rng = random.Random(1)
    driver.execute_query("CREATE CONSTRAINT FOR (c:Customer) REQUIRE c.customerId IS UNIQUE")
    driver.execute_query("CREATE INDEX FOR (e:EmailEvent) ON (e.type)")
    events = 0
    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(start + batch, n)):
            mine = [{"type": rng.choice(["open", "open", "click"]),
                     "at": NOW - timedelta(days=rng.uniform(0, 60))}
                    for _ in range(rng.randint(0, 9))]  # fmt: skip
            events += len(mine)
            rows.append({"id": f"c{i:07d}", "city": rng.choice(["Oslo", "Paris", "Lima"]),
                         "country": rng.choice(["NO", "NO", "FR"]), "events": mine})  # fmt: skip
        driver.execute_query(
            "UNWIND $rows AS r CREATE (c:Customer {customerId: r.id, city: r.city, "
            "country: r.country}) WITH c, r UNWIND r.events AS e "
            "CREATE (c)-[:RECEIVED]->(:EmailEvent {type: e.type, at: e.at})",
            rows=rows,
        )
    return events


async def score_twice(n: int) -> None:
    settings = get_settings()
    auth = (settings.neo4j_user, settings.neo4j_password)
    async with neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        db = Db(driver, settings.neo4j_database)
        await ensure_schema(db)
        model = await store.create_model(db, "bench", "bench", "", SPEC, "Customer", (), "b", NOW)
        await store.publish_model(db, model.id, NOW)
        env = ScoreEnv(db=db, schema=SCHEMA)
        for label in ("first run (all written)", "second run (nothing changed)"):
            started = time.monotonic()
            run = await score_model(env, model.id, NOW)
            assert run is not None
            took = time.monotonic() - started
            print(f"{label}: {took:.1f} s, scored {run.scored}, changed {run.changed}")
    del n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    n = parser.parse_args().customers
    settings = get_settings()
    with neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    ) as driver:
        wipe_graph(driver)
        started = time.monotonic()
        events = seed(driver, n)
        print(f"seeded {n} customers, {events} email events in {time.monotonic() - started:.1f} s")
    asyncio.run(score_twice(n))


if __name__ == "__main__":
    main()
