"""Seeded small datasets for the differential test: every attribute of a schema filled from pools
of edge values (nulls, empty strings, zero, negatives, non-ASCII text, dates and instants exactly
on the edges of the time windows the segment generator uses, local midnights across DST), and
the same rows loaded into Neo4j with plain `UNWIND` batches."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import neo4j

from grammar import ast as a
from grammar import timewindow
from grammar.cypher import escape
from grammar.evaluate import Dataset, Key
from graph_schema import Attribute, AttrType, Entity, GraphSchema, engine_labels

# Known engine differences are kept out of the pools and pinned in test_differential_known.py:
# -0.0 (Neo4j orders it below 0.0 yet calls them equal), regex `.` on \r, \u0085, \u2028 and
# \u2029 (Java excludes them, Python does not), datetimes stored with a non-UTC offset.
STRINGS = (
    "", "a", "A", "abc", "ABC", "aBc", "New York", "new york", "NEW YORK", "York", "x%y", "a_b",
    "O'Brien", 'say "hi"', "back\\slash", "İstanbul", "straße", "STRASSE", "ΣΑΣ", "😀",
    "\ufffd", "a٣", "a3", "line\nbreak", "tab\there", " ", "z", "Zebra", "é", "e\u0301",
)  # fmt: skip
INTEGERS = (-5, -1, 0, 1, 2, 3, 7, 10, 100, 2**40)
FLOATS = (-2.5, 0.0, 0.5, 1.0, 2.25, 3.0, 10.5, 100.0, 1e6)

UNITS = (a.TimeUnit.DAY, a.TimeUnit.WEEK, a.TimeUnit.MONTH, a.TimeUnit.QUARTER, a.TimeUnit.YEAR)
PERIODS = (a.TimeUnit.WEEK, a.TimeUnit.MONTH, a.TimeUnit.QUARTER, a.TimeUnit.YEAR)
AMOUNTS = (0, 1, 2, 7, 30, 90)


def windows(hours: bool) -> list[a.Window]:
    """Every window the generator writes (hours only for datetimes)."""
    found: list[a.Window] = [a.DayWindow(day=d) for d in a.Day]
    found += [a.CalendarWindow(relation=r, unit=u) for r in a.Relation for u in PERIODS]
    units = (*UNITS, a.TimeUnit.HOUR) if hours else UNITS
    for relation in (a.Relation.LAST, a.Relation.NEXT):
        found += [
            a.RollingWindow(relation=relation, amount=n, unit=u) for n in AMOUNTS for u in units
        ]
    return found


@dataclass(frozen=True, slots=True)
class Clock:
    now: dt.datetime
    tz: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def dates(self) -> list[dt.date]:
        """Window edges, the day either side, and anniversaries (Feb 29 among them)."""
        found: set[dt.date] = set()
        for window in windows(hours=False):
            for edge in timewindow.date_range(window, self.now, self.zone):
                found |= {edge + dt.timedelta(days=d) for d in (-1, 0)}
        today = timewindow.local_today(self.now, self.zone)
        found |= {dt.date(1990, today.month, min(today.day, 28)), dt.date(2000, 2, 29)}
        found |= {dt.date(1999, 3, 1), dt.date(2001, 2, 28)}
        found |= {today + dt.timedelta(days=d) for d in range(-3, 10)}
        return sorted(found)

    def instants(self) -> list[dt.datetime]:
        """Window edges and a second either side, in UTC."""
        found: set[dt.datetime] = set()
        for window in windows(hours=True):
            for edge in timewindow.instant_range(window, self.now, self.zone):
                found |= {edge + dt.timedelta(seconds=s) for s in (-1, 0, 1)}
        found.add(self.now + dt.timedelta(microseconds=1))
        return sorted(found)


@dataclass(slots=True)
class Pools:
    clock: Clock
    dates: list[dt.date]
    instants: list[dt.datetime]

    @staticmethod
    def of(clock: Clock) -> Pools:
        return Pools(clock, clock.dates(), clock.instants())

    def value(self, rng: random.Random, kind: AttrType) -> Any:
        match kind:
            case AttrType.STRING:
                return rng.choice(STRINGS)
            case AttrType.INTEGER:
                return rng.choice(INTEGERS)
            case AttrType.FLOAT:
                return rng.choice(FLOATS)
            case AttrType.BOOLEAN:
                return rng.random() < 0.5
            case AttrType.DATE:
                return rng.choice(self.dates)
            case AttrType.DATETIME:
                return rng.choice(self.instants)


def _row(
    rng: random.Random, attrs: tuple[Attribute, ...], pools: Pools, skip: str = ""
) -> dict[str, Any]:
    """Attribute values, a quarter of them null."""
    return {
        x.name: None if rng.random() < 0.25 else pools.value(rng, x.type)
        for x in attrs
        if x.name != skip
    }


def _key(entity: Entity, index: int) -> Key:
    if entity.key_attribute.type is AttrType.INTEGER:
        return index
    return f"{entity.name[:2].lower()}{index}"


def random_dataset(schema: GraphSchema, pools: Pools, seed: int, size: int = 24) -> Dataset:
    rng = random.Random(seed)
    entities: dict[str, dict[Key, dict[str, Any]]] = {}
    for entity in schema.entities:
        count = size if entity.profile else rng.randint(size // 2, size + size // 2)
        rows = {}
        for i in range(count):
            key = _key(entity, i)
            rows[key] = {**_row(rng, entity.attributes, pools, entity.key), entity.key: key}
        entities[entity.name] = rows
    relationships: dict[str, list[tuple[Key, Key, dict[str, Any]]]] = {}
    for rel in schema.relationships:
        sources, targets = list(entities[rel.source]), list(entities[rel.target])
        edges = [
            (rng.choice(sources), rng.choice(targets), _row(rng, rel.attributes, pools))
            for _ in range(rng.randint(len(sources), 2 * len(sources)))
        ]
        edges += [(s, t, _row(rng, rel.attributes, pools)) for s, t, _ in edges[:2]]  # parallel
        relationships[rel.type] = edges
    return Dataset(entities=entities, relationships=relationships)


@dataclass(frozen=True, slots=True)
class StoredSegment:
    """A stored segment's versioned membership rows (see `graph_schema.engine_labels`)."""

    name: str
    active: int
    members: tuple[tuple[Key, int, int | None], ...]  # key, since, until

    def active_keys(self) -> frozenset[Key]:
        return frozenset(
            key
            for key, since, until in self.members
            if since <= self.active and (until is None or until > self.active)
        )


def random_memberships(schema: GraphSchema, data: Dataset, seed: int) -> list[StoredSegment]:
    rng = random.Random(seed)
    keys = [k for e in schema.profiles for k in data.records(e)]
    stored = []
    for name in ("alpha", "beta"):
        rows = []
        for key in rng.sample(keys, len(keys) // 2):
            until = rng.choice((None, None, 1, 2, 3))
            rows.append((key, rng.choice((1, 2, 3)), until))
        stored.append(StoredSegment(name, 2, tuple(rows)))
    return stored


def load(driver: neo4j.Driver, schema: GraphSchema, data: Dataset,
         stored: list[StoredSegment]) -> None:  # fmt: skip
    """Create every record and relationship (nulls are simply absent properties)."""
    for entity in schema.entities:
        rows = [
            {k: v for k, v in r.items() if v is not None} for r in data.records(entity).values()
        ]
        driver.execute_query(
            f"UNWIND $rows AS r CREATE (n:{escape.label(entity)}) SET n = r", rows=rows
        )
    for rel in schema.relationships:
        source, target = schema.require_entity(rel.source), schema.require_entity(rel.target)
        rows = [{"s": s, "t": t, "p": {k: v for k, v in p.items() if v is not None}}
                for s, t, p in data.relationships.get(rel.type, ())]  # fmt: skip
        source_key, target_key = escape.name(source.key), escape.name(target.key)
        driver.execute_query(
            f"UNWIND $rows AS r MATCH (a:{escape.label(source)} {{{source_key}: r.s}}) "
            f"MATCH (b:{escape.label(target)} {{{target_key}: r.t}}) "
            f"CREATE (a)-[x:{escape.name(rel.type)}]->(b) SET x = r.p",
            rows=rows,
        )
    _load_memberships(driver, schema, stored)


def _load_memberships(
    driver: neo4j.Driver, schema: GraphSchema, stored: list[StoredSegment]
) -> None:
    e = engine_labels
    for segment in stored:
        driver.execute_query(
            f"CREATE (:{e.SEGMENT_LABEL} {{{e.SEGMENT_ID}: $name, {e.SEGMENT_NAME}: $name, "
            f"{e.ACTIVE_VERSION}: $active}})",
            name=segment.name, active=segment.active,
        )  # fmt: skip
        for profile in schema.profiles:
            rows = [{"key": k, "since": s, "until": u} for k, s, u in segment.members]
            driver.execute_query(
                f"MATCH (s:{e.SEGMENT_LABEL} {{{e.SEGMENT_NAME}: $name}}) UNWIND $rows AS r "
                f"MATCH (p:{escape.label(profile)} {{{escape.name(profile.key)}: r.key}}) "
                f"CREATE (s)-[:{e.MEMBER_REL} {{{e.MEMBER_SEGMENT_ID}: $name, {e.MEMBER_KEY}: "
                f"r.key, {e.MEMBER_SINCE}: r.since, {e.MEMBER_UNTIL}: r.until}}]->(p)",
                name=segment.name, rows=rows,
            )  # fmt: skip
