"""Demo profiles: customers (with planted look-alike cohorts), accounts and their contacts,
and the product catalogue every chunk of customers buys from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph_schema import demo_vocab as v
from graph_schema.demo_common import (
    Bools,
    Clock,
    Column,
    Floats,
    Ints,
    blank,
    booleans,
    ids,
    money,
    owner_index,
    pick,
)

COHORTS = 8
COHORT_SHARE = 0.08  # of customers, split evenly between the planted cohorts
PRODUCTS = 1_000
PRODUCT_ID_BASE = 5_000  # so product "5567" (a reference example) exists, in Security


@dataclass(frozen=True, slots=True)
class Cohort:
    """Traits shared by the members of one planted group of similar customers."""

    place: int
    tier: int
    birth_year_age: float
    category: int
    value: float
    engagement: float
    gender: int


@dataclass(frozen=True, slots=True)
class World:
    cohorts: tuple[Cohort, ...]
    product_category: Ints  # product i's category
    by_category: Ints  # product numbers sorted by category: category k is a slice of it
    category_start: Ints
    category_size: Ints


@dataclass(frozen=True, slots=True)
class Customers:
    """Latent traits of one chunk of customers, which drive all their activity."""

    ids: Column
    engagement: Floats
    value: Floats
    category: Ints  # favourite product category
    tenure: Floats  # days since the customer was created
    lapse: Floats  # days since their last purchase
    satisfaction: Floats
    do_not_contact: Bools


def make_world(rng: np.random.Generator) -> World:
    cohorts = tuple(
        Cohort(
            place=int(rng.integers(len(v.PLACES))),
            tier=int(rng.integers(len(v.TIERS))),
            birth_year_age=float(rng.uniform(22, 70)),
            category=int(rng.integers(len(v.CATEGORIES))),
            value=float(rng.normal(0.5, 0.8)),
            engagement=float(rng.normal(0.3, 0.8)),
            gender=int(rng.integers(2)),
        )
        for _ in range(COHORTS)
    )
    category = rng.integers(len(v.CATEGORIES), size=PRODUCTS).astype(np.int64)
    category[5567 - PRODUCT_ID_BASE] = v.CATEGORIES.index("Security")
    size = np.bincount(category, minlength=len(v.CATEGORIES)).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(size)[:-1])).astype(np.int64)
    by_category = np.argsort(category, kind="stable").astype(np.int64)
    return World(cohorts, category, by_category, start, size)


def product_rows(world: World, rng: np.random.Generator) -> list[Column]:
    n = len(world.product_category)
    category = [v.CATEGORIES[c] for c in world.product_category.tolist()]
    words = pick(rng, v.PRODUCT_WORDS, n)
    names = [f"{c} {w} {i}" for i, (c, w) in enumerate(zip(category, words, strict=True))]
    price = money(rng.lognormal(3.6, 0.9, size=n))
    return [[str(PRODUCT_ID_BASE + i) for i in range(n)], names, category, price]


def make_customers(
    rng: np.random.Generator, world: World, first: int, n: int
) -> tuple[Customers, Ints]:
    """Latent traits; returns them and each customer's cohort (-1 for none)."""
    cohort = np.where(rng.random(n) < COHORT_SHARE, rng.integers(COHORTS, size=n), -1)
    member = cohort >= 0
    traits = [world.cohorts[k] for k in np.maximum(cohort, 0).tolist()]
    jitter = rng.normal(0, 0.2, size=(2, n))
    value = np.where(member, [t.value for t in traits] + jitter[0], rng.normal(0, 1, n))
    engagement = np.where(member, [t.engagement for t in traits] + jitter[1], rng.normal(0, 1, n))
    category = np.where(
        member, [t.category for t in traits], rng.integers(len(v.CATEGORIES), size=n)
    )
    tenure = rng.uniform(30, 3650, n)
    lapse = np.where(rng.random(n) < 0.8, rng.exponential(45, n), rng.uniform(180, 720, n))
    lapse = np.minimum(lapse, tenure * 0.9)
    satisfaction = np.clip(np.round(62 + 15 * rng.normal(0, 1, n) + 6 * value), 0, 100)
    customers = Customers(
        ids=ids("C", range(first + 1, first + n + 1)),
        engagement=engagement.astype(np.float64),
        value=value.astype(np.float64),
        category=category.astype(np.int64),
        tenure=tenure,
        lapse=lapse,
        satisfaction=satisfaction,
        do_not_contact=rng.random(n) < 0.05,
    )
    return customers, cohort.astype(np.int64)


def customer_rows(
    rng: np.random.Generator, world: World, c: Customers, cohort: Ints, clock: Clock, first: int
) -> list[Column]:
    n = len(c.ids)
    member = cohort >= 0
    traits = [world.cohorts[k] for k in np.maximum(cohort, 0).tolist()]
    firsts, lasts = pick(rng, v.FIRST_NAMES, n), pick(rng, v.LAST_NAMES, n)
    place = rng.choice(len(v.PLACES), n, p=np.array(v.PLACE_WEIGHTS) / sum(v.PLACE_WEIGHTS))
    place = np.where(member & (rng.random(n) < 0.9), [t.place for t in traits], place)
    city, state, country = (list(col) for col in zip(*(v.PLACES[p] for p in place), strict=True))
    age = np.where(member, [t.birth_year_age for t in traits] + rng.normal(0, 2, n),
                   rng.uniform(18, 85, n))  # fmt: skip
    gender = np.where(member, [t.gender for t in traits], rng.integers(len(v.GENDERS), size=n))
    tier = np.digitize(c.value + rng.normal(0, 0.3, n), [-0.3, 0.6, 1.4])
    tier = np.where(member, [t.tier for t in traits], tier)
    credit = np.where(rng.random(n) < 0.1, 0.0, rng.lognormal(7 + 0.4 * c.value, 1.0))
    numbers = range(first + 1, first + n + 1)
    emails = [
        f"{a}.{b}{i}@example.com".lower() for a, b, i in zip(firsts, lasts, numbers, strict=True)
    ]
    columns: list[Column] = [
        c.ids,
        [f"{a} {b}" for a, b in zip(firsts, lasts, strict=True)],
        firsts,
        lasts,
        blank(emails, rng.random(n) < 0.02),
        blank(_phones(rng, n), rng.random(n) < 0.1),
        city,
        state,
        country,
        blank(clock.dates(age * 365.25), rng.random(n) < 0.05),
        blank([v.GENDERS[g] for g in gender.tolist()], rng.random(n) < 0.08),
        clock.dates(c.tenure),
        booleans(c.do_not_contact),
        booleans(rng.random(n) < 1 / (1 + np.exp(0.3 - c.engagement))),
        money(credit),
        [v.TIERS[t] for t in tier.tolist()],
        blank(pick(rng, v.JOB_TITLES, n), rng.random(n) < 0.3),
        blank([int(s) for s in c.satisfaction.tolist()], rng.random(n) < 0.2),
        ["" if k < 0 else f"cohort-{k}" for k in cohort.tolist()],
    ]
    if first == 0:
        _plant_edge_values(columns)
    return columns


def _phones(rng: np.random.Generator, n: int) -> Column:
    return [f"+1-555-{x:07d}" for x in rng.integers(10**7, size=n).tolist()]


def _plant_edge_values(columns: list[Column]) -> None:
    """Awkward but valid values at fixed rows: quoting, unicode, zero, leap day, long, empty."""
    n = len(columns[0])
    edits = {
        (0, 3): "O'Brien", (1, 2): 'Zoë "Zed"', (1, 3): "Smith, Jr.", (2, 14): 0.0,
        (3, 9): "2000-02-29", (4, 16): "Chief " + "Very " * 40 + "Officer",
        (5, 6): "", (5, 7): "", (5, 8): "",
    }  # fmt: skip
    for (row, col), value in edits.items():
        if row < n:
            columns[col][row] = value
    for row in range(min(n, 2)):
        columns[1][row] = f"{columns[2][row]} {columns[3][row]}"


def account_rows(
    rng: np.random.Generator, accounts: int, clock: Clock
) -> tuple[list[Column], list[Column], list[Column]]:
    """Accounts, contacts (1 + Poisson(2) each, the first one primary) and who works where."""
    n = accounts
    place = rng.integers(len(v.PLACES), size=n)
    employees = (rng.lognormal(4, 1.6, n) + 1).astype(np.int64)
    revenue = employees * rng.lognormal(11.5, 0.5, n)
    account_ids = ids("A", range(1, n + 1))
    names = [f"{a} {b}" for a, b in zip(pick(rng, v.COMPANY_WORDS, n),
             pick(rng, v.COMPANY_SUFFIXES, n), strict=True)]  # fmt: skip
    account_cols: list[Column] = [
        account_ids, names, pick(rng, v.INDUSTRIES, n), list(employees.tolist()), money(revenue),
        money(revenue * rng.uniform(0.005, 0.08, n)), clock.dates(rng.uniform(-365, 90, n)),
        [v.PLACES[p][0] for p in place.tolist()], [v.PLACES[p][2] for p in place.tolist()],
    ]  # fmt: skip
    per_account = 1 + rng.poisson(2, n)
    owner = owner_index(per_account)
    m = len(owner)
    primary = np.concatenate(([True], owner[1:] != owner[:-1])) if m else np.zeros(0, bool)
    contact_ids = ids("P", range(1, m + 1))
    firsts, lasts = pick(rng, v.FIRST_NAMES, m), pick(rng, v.LAST_NAMES, m)
    roles = pick(rng, v.CONTACT_ROLES, m)
    since = rng.uniform(30, 2000, m)
    contact_cols: list[Column] = [
        contact_ids, firsts, lasts,
        [f"{a}.{b}.{i}@corp.example".lower() for i, (a, b) in enumerate(zip(firsts, lasts,
         strict=True))],
        blank(_phones(rng, m), rng.random(m) < 0.15),
        pick(rng, ("CEO", "CFO", "CTO", "IT Director", "Procurement Manager", "Office Manager"), m),
        ["primary" if p else r for p, r in zip(primary.tolist(), roles, strict=True)],
        [account_cols[7][o] for o in owner.tolist()], [account_cols[8][o] for o in owner.tolist()],
        clock.dates(since),
    ]  # fmt: skip
    works_at: list[Column] = [
        contact_ids, [account_ids[o] for o in owner.tolist()], clock.dates(since),
        booleans(primary),
    ]  # fmt: skip
    return account_cols, contact_cols, works_at
