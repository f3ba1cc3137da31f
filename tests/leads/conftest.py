"""Seeded customers and email events for scoring runs on the real Neo4j."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import neo4j

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Seeded:
    customers: list[dict[str, object]]  # customerId, city, country
    events: list[dict[str, object]]  # customerId, type, at


def seed_customers(driver: neo4j.Driver, n: int = 60, seed: int = 7) -> Seeded:
    rng = random.Random(seed)
    customers: list[dict[str, object]] = [
        {"customerId": f"c{i:03d}", "city": rng.choice(["Oslo", "Paris", "Lima"]),
         "country": rng.choice(["NO", "NO", "FR"]), "email": f"c{i:03d}@example.com"}
        for i in range(n)
    ]  # fmt: skip
    events: list[dict[str, object]] = [
        {"customerId": c["customerId"], "emailEventId": f"{c['customerId']}-{k}",
         "type": rng.choice(["open", "open", "click"]),
         "at": NOW - timedelta(days=rng.uniform(0, 60))}
        for c in customers for k in range(rng.randint(0, 9))
    ]  # fmt: skip
    driver.execute_query("UNWIND $rows AS r CREATE (c:Customer) SET c = r", rows=customers)
    driver.execute_query(
        "UNWIND $rows AS r MATCH (c:Customer {customerId: r.customerId}) "
        "CREATE (c)-[:RECEIVED]->(:EmailEvent {emailEventId: r.emailEventId, type: r.type, "
        "at: r.at})",
        rows=events,
    )
    driver.execute_query(
        "CREATE CONSTRAINT IF NOT EXISTS FOR (c:Customer) REQUIRE c.customerId IS UNIQUE"
    )
    return Seeded(customers, events)
