"""Synthetic demo data in the default schema's CSV format, then optionally imported.

Generation streams chunks of customers to the files, so memory stays bounded at any size.
Each chunk draws from its own seeded generator and ids run on across chunks: the same seed
and `today` give byte-identical files. All dates lie before `today`, so "last 90 days"
segments have members whenever the data is generated.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

import numpy as np

from graph_schema.demo_activity import activity
from graph_schema.demo_common import Clock, Column, Counters
from graph_schema.demo_people import (
    account_rows,
    customer_rows,
    make_customers,
    make_world,
    product_rows,
)

if TYPE_CHECKING:
    import neo4j

    from graph_schema.import_report import ImportProgress, ImportReport

CHUNK = 20_000
COHORTS_FILE = "cohorts.csv"  # side file, not in the schema: planted look-alike groups

HEADERS: dict[str, tuple[str, ...]] = {
    "products.csv": ("productId", "name", "category", "price"),
    "accounts.csv": ("accountId", "name", "industry", "employees", "annualRevenue", "budget",
                     "contractRenewalDate", "city", "country"),
    "contacts.csv": ("contactId", "firstName", "lastName", "email", "phone", "jobTitle", "role",
                     "city", "country", "createdOn"),
    "contact_accounts.csv": ("contactId", "accountId", "since", "isPrimary"),
    "customers.csv": ("customerId", "name", "firstName", "lastName", "email", "phone", "city",
                      "state", "country", "birthDate", "gender", "createdOn", "doNotContact",
                      "newsletter", "creditBalance", "loyaltyTier", "jobTitle", "satisfaction",
                      "segmentHint"),
    COHORTS_FILE: ("customerId", "cohort"),
    "orders.csv": ("orderId", "customerId", "total", "placedAt", "channel", "status"),
    "order_lines.csv": ("orderLineId", "orderId", "productId", "quantity", "price"),
    "cases.csv": ("caseId", "customerId", "escalated", "priority", "createdOn", "satisfaction",
                  "status"),
    "online_accounts.csv": ("onlineAccountId", "customerId", "username", "createdOn"),
    "web_sessions.csv": ("sessionId", "onlineAccountId", "startedAt", "device"),
    "page_views.csv": ("pageViewId", "sessionId", "url", "at"),
    "email_events.csv": ("emailEventId", "customerId", "type", "campaign", "url", "at"),
    "event_registrations.csv": ("registrationId", "customerId", "event", "registeredAt",
                                "attended"),
    "leads.csv": ("leadId", "customerId", "source", "status", "createdOn", "convertedAt",
                  "converted"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoSummary:
    directory: Path
    customers: int
    seed: int
    today: date
    rows: Mapping[str, int]  # data rows per file
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def __str__(self) -> str:
        return (
            f"{self.customers:,} customers, {self.total_rows:,} rows in {len(self.rows)} files "
            f"(seed {self.seed}, today {self.today}) in {self.seconds:.1f}s -> {self.directory}"
        )


class _Writers:
    """One CSV writer per file, each opened with its header on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, tuple[IO[str], csv.Writer]] = {}  # type: ignore[name-defined]
        self.rows: dict[str, int] = {}

    def write(self, name: str, columns: list[Column]) -> None:
        if name not in self.files:
            fh = (self.directory / name).open("w", newline="", encoding="utf-8")
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(HEADERS[name])
            self.files[name], self.rows[name] = (fh, writer), 0
        rows = list(zip(*columns, strict=True))
        self.files[name][1].writerows(rows)
        self.rows[name] += len(rows)

    def __enter__(self) -> _Writers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for fh, _ in self.files.values():
            fh.close()


def generate_demo(
    directory: str | Path,
    *,
    customers: int = 10_000,
    seed: int = 0,
    today: date | None = None,
) -> DemoSummary:
    """Write the demo CSV files (and cohorts.csv) into `directory`, creating it if needed.

    Raises ValueError if `customers` < 1, OSError if the files cannot be written.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    started, folder = time.perf_counter(), Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    clock, counters = Clock(today or date.today()), Counters()
    world_rng = np.random.default_rng([seed, 0])
    world = make_world(world_rng)
    with _Writers(folder) as out:
        out.write("products.csv", product_rows(world, world_rng))
        accounts, contacts, works_at = account_rows(
            np.random.default_rng([seed, 1]), max(5, customers // 20), clock
        )
        out.write("accounts.csv", accounts)
        out.write("contacts.csv", contacts)
        out.write("contact_accounts.csv", works_at)
        for chunk, first in enumerate(range(0, customers, CHUNK)):
            rng = np.random.default_rng([seed, 2, chunk])
            people, cohort = make_customers(rng, world, first, min(CHUNK, customers - first))
            out.write("customers.csv", customer_rows(rng, world, people, cohort, clock, first))
            members = np.flatnonzero(cohort >= 0).tolist()
            out.write(COHORTS_FILE, [[people.ids[i] for i in members],
                                     [f"cohort-{cohort[i]}" for i in members]])  # fmt: skip
            for name, columns in activity(rng, people, world, clock, counters):
                out.write(name, columns)
    return DemoSummary(
        folder, customers, seed, clock.today, dict(out.rows), time.perf_counter() - started
    )


def run_demo(
    driver: neo4j.Driver,
    directory: str | Path,
    *,
    customers: int = 10_000,
    seed: int = 0,
    today: date | None = None,
    progress: Callable[[ImportProgress], None] | None = None,
    database: str | None = None,
) -> tuple[DemoSummary, ImportReport]:
    """Generate the demo into `directory`, then import it with the default schema.

    Raises what generate_demo and import_directory raise.
    """
    from graph_schema.importer import import_directory
    from graph_schema.loader import default_schema

    summary = generate_demo(directory, customers=customers, seed=seed, today=today)
    report = import_directory(
        driver, default_schema(), directory, progress=progress, database=database
    )
    return summary, report
