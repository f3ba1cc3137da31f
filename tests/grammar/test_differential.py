"""Differential test: random well-typed segments, compiled and run on the real Neo4j, select the
same profile keys as the reference evaluator on the same seeded rows; and each group's condition
has the same three-valued truth (TRUE / FALSE / UNKNOWN) for every profile in both.

Datasets are loaded once each and many segments run against them. CI mode runs
`SEGMENTS_DIFF_CASES` (default 100) segments per dataset, over 5 datasets (3 schemas: the club
and a 4-hop chain beside the default; 5 time zones; "now" on DST-change days, a leap day and
New Year's Eve).
`SEGMENTS_DIFF_CASES=2000` is the long mode; `SEGMENTS_DIFF_SEED=n` picks other data and
segments; `SEGMENTS_DIFF_SIZE=12` allows bigger segments (slower: Neo4j plans each one).
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import neo4j
import pytest

import grammar
from grammar import bound as b
from grammar.ast import Quantifier
from grammar.cypher import escape
from grammar.cypher.printer import ExpressionPrinter, Scope
from grammar.evaluate import Dataset, Evaluator, Key, Truth, evaluate_segment
from grammar.evaluate import Scope as RowScope
from graph_schema import GraphSchema
from tests.grammar.random_data import (
    Clock,
    Pools,
    StoredSegment,
    load,
    random_dataset,
    random_memberships,
)
from tests.grammar.random_segments import SegmentGenerator
from tests.grammar.schemas import CLUB, DEFAULT, chain_schema

pytestmark = pytest.mark.services

CASES = int(os.environ.get("SEGMENTS_DIFF_CASES", "100"))  # x 5 datasets = 500
# Candidate-driven cases run four queries each, every one planned anew (~40 ms): fewer in CI.
DRIVEN_CASES = CASES * 3 // 5
SEED = int(os.environ.get("SEGMENTS_DIFF_SEED", "0"))  # another seed: other data, other segments
SIZE = int(os.environ.get("SEGMENTS_DIFF_SIZE", "6"))  # predicates per segment, at most


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    schema: GraphSchema
    clock: Clock
    base_seed: int
    hops: int = 3

    @property
    def seed(self) -> int:
        return self.base_seed + 1000 * SEED


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


SCENARIOS = [
    Scenario("club-berlin-spring-forward", CLUB, Clock(_at(2026, 3, 29, 12), "Europe/Berlin"), 1),
    Scenario("default-new-york-fall-back", DEFAULT,
             Clock(_at(2026, 11, 1, 5, 30), "America/New_York"), 2),
    Scenario("club-leap-day-utc", CLUB, Clock(_at(2028, 2, 29, 6), "UTC"), 3),
    Scenario("default-sydney-fall-back", DEFAULT,
             Clock(_at(2026, 4, 4, 15, 30), "Australia/Sydney"), 4),
    Scenario("chain-4-hops-tokyo", chain_schema(4), Clock(_at(2026, 12, 31, 16), "Asia/Tokyo"),
             5, hops=4),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Loaded:
    scenario: Scenario
    data: Dataset
    stored: list[StoredSegment]

    @property
    def segments(self) -> dict[str, frozenset[Key]]:
        return {s.name: s.active_keys() for s in self.stored}

    def generate(self, count: int) -> Iterator[grammar.CompiledSegment]:
        """`count` compiled random segments (every one must compile: they are well typed)."""
        s = self.scenario
        rng = random.Random(s.seed)
        generator = SegmentGenerator(s.schema, Pools.of(s.clock), rng, SIZE, hops=s.hops)
        for _ in range(count):
            text = generator.segment()
            yield grammar.compile_segment(text, s.schema, now=s.clock.now, timezone=s.clock.tz)


def prepare(driver: neo4j.Driver, scenario: Scenario) -> Loaded:
    data = random_dataset(scenario.schema, Pools.of(scenario.clock), scenario.seed)
    stored = random_memberships(scenario.schema, data, scenario.seed)
    load(driver, scenario.schema, data, stored)
    return Loaded(scenario, data, stored)


def neo4j_keys(driver: neo4j.Driver, compiled: grammar.CompiledSegment) -> frozenset[Key]:
    records = driver.execute_query(compiled.cypher, compiled.params).records
    return frozenset(r["key"] for r in records)


def truth_query(segment: b.BoundSegment, cond: b.BoundCondition) -> tuple[str, str, dict[str, Any]]:
    """A query of the condition's value for every profile, without the WHERE that drops
    UNKNOWN; and the members query the compiler prints for a segment of that one condition."""
    printer = ExpressionPrinter()
    root = Scope(node=printer.node())
    test = printer.expr(cond, root)
    key = escape.prop(root.node, segment.audience.key_attribute)
    match = f"{printer.prelude()}MATCH ({root.node}:{escape.label(segment.audience)})"
    # projected by WITH first: Neo4j rejects a COLLECT { ... max() } beside a grouping key
    carried = ", ".join((root.node, *printer.prelude_variables()))
    truths = f"{match} WITH {carried}, {test} AS t RETURN {key} AS key, t"
    return truths, f"{match}\nWHERE {test}\nRETURN {key} AS key", printer.param_dict()


def neo4j_truths(driver: neo4j.Driver, text: str, params: dict[str, Any]) -> dict[Key, Truth]:
    return {r["key"]: r["t"] for r in driver.execute_query(text, params).records}


def evaluator_truths(loaded: Loaded, segment: b.BoundSegment,
                     cond: b.BoundCondition) -> dict[Key, Truth]:  # fmt: skip
    evaluator = Evaluator(loaded.data, loaded.segments)
    rows = loaded.data.records(segment.audience)
    audience = segment.audience
    return {k: evaluator.truth(cond, RowScope(audience, k, r)) for k, r in rows.items()}


def describe(compiled: grammar.CompiledSegment, expected: Any, got: Any) -> str:
    return f"{compiled.canonical}\n  evaluator: {expected}\n  neo4j:     {got}\n{compiled.cypher}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_neo4j_agrees_with_the_reference_evaluator(
    empty_graph: neo4j.Driver, scenario: Scenario
) -> None:
    loaded = prepare(empty_graph, scenario)
    mismatches: list[str] = []
    selected = 0
    for compiled in loaded.generate(CASES):
        expected = evaluate_segment(compiled.bound, loaded.data, segments=loaded.segments)
        selected += bool(expected)
        body = compiled.bound.body
        if isinstance(body, b.BoundSetOperation):
            got = neo4j_keys(empty_graph, compiled)
            if got != expected:
                mismatches.append(describe(compiled, sorted(map(str, expected - got)),
                                           sorted(map(str, got - expected))))  # fmt: skip
            continue
        # One group: its three-valued truth per profile, read with the very condition text of
        # the members query (planning dominates the run time, so one query per segment).
        truths, members, params = truth_query(compiled.bound, body.condition)
        assert params == compiled.params
        if compiled.forms.driving_clause is None:
            assert members == compiled.cypher
        else:  # candidate-driven: another members query, checked on its own
            got = neo4j_keys(empty_graph, compiled)
            if got != expected:
                mismatches.append(describe(compiled, sorted(map(str, expected - got)),
                                           sorted(map(str, got - expected))))  # fmt: skip
        want = evaluator_truths(loaded, compiled.bound, body.condition)
        have = neo4j_truths(empty_graph, truths, params)
        if want != have:
            diff = {k: (want.get(k), have.get(k)) for k in want if want.get(k) != have.get(k)}
            mismatches.append(describe(compiled, "three-valued (evaluator, neo4j)", diff))
        assert expected == {k for k, t in want.items() if t is True}
    assert not mismatches, f"{len(mismatches)} mismatches:\n\n" + "\n\n".join(mismatches[:5])
    assert selected > CASES // 3  # the generator is not trivially selecting nothing


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_candidate_driven_forms_agree_with_the_reference_evaluator(
    empty_graph: neo4j.Driver, scenario: Scenario
) -> None:
    """Definitions built around a top-level block over indexed attributes (nulls, `via`,
    relationship attributes, multi-hop paths, segment references): members, count and
    members_in_keys select what the evaluator selects, whether the compiler started from the
    related records or kept the scan; `no`/`all`/`count`/`not` blocks never start it."""
    loaded = prepare(empty_graph, scenario)
    rng = random.Random(scenario.seed + 7)
    generator = SegmentGenerator(scenario.schema, Pools.of(scenario.clock), rng, SIZE,
                                 hops=scenario.hops)  # fmt: skip
    mismatches: list[str] = []
    driven = selected = 0
    for _ in range(DRIVEN_CASES):
        text = generator.candidate_segment()
        s = scenario
        compiled = grammar.compile_segment(text, s.schema, now=s.clock.now, timezone=s.clock.tz)
        forms = compiled.forms
        if forms.driving_clause is not None:
            driven += 1
            clause = compiled.bound.body
            assert isinstance(clause, b.BoundGroup)
            items = clause.condition.items if isinstance(clause.condition, b.BoundAnd) else (
                clause.condition,)  # fmt: skip
            start = items[forms.driving_clause]
            assert isinstance(start, b.BoundRelated)
            assert start.quantifier is Quantifier.ANY
        expected = evaluate_segment(compiled.bound, loaded.data, segments=loaded.segments)
        selected += bool(expected)
        got = neo4j_keys(empty_graph, compiled)
        count = empty_graph.execute_query(forms.count.text, forms.count.params).records[0][0]
        keys = [*list(loaded.data.records(compiled.bound.audience))[::2], "missing"]
        in_keys = empty_graph.execute_query(
            forms.members_in_keys.text, {**forms.members_in_keys.params, "keys": keys}
        )
        have_in_keys = frozenset(r["key"] for r in in_keys.records)
        want_in_keys = expected & set(keys)
        if (got, count, have_in_keys) != (expected, len(expected), want_in_keys):
            mismatches.append(describe(compiled, (sorted(map(str, expected)), len(expected)),
                                       (sorted(map(str, got)), count)))  # fmt: skip
    assert not mismatches, f"{len(mismatches)} mismatches:\n\n" + "\n\n".join(mismatches[:5])
    assert driven > DRIVEN_CASES // 3  # the new plan shape is exercised
    assert selected > DRIVEN_CASES // 10  # and not only on empty answers


def test_ternary_partition_of_the_audience(empty_graph: neo4j.Driver) -> None:
    """|all| = |p| + |not p| + |p unknown| in Neo4j, and for attribute predicates the unknown
    part is exactly `attr is empty`."""
    loaded = prepare(empty_graph, SCENARIOS[0])
    generator = SegmentGenerator(CLUB, Pools.of(SCENARIOS[0].clock), random.Random(7))
    member = CLUB.require_entity("Member")
    total = len(loaded.data.records(member))
    checked = 0
    for _ in range(24):
        attr = generator.rng.choice(member.attributes)
        name = generator.ident(attr.name)
        p = generator.attribute(name, attr.type)

        def count(condition: str) -> int:
            text = f"segment Member where {condition}"
            compiled = grammar.compile_segment(text, CLUB, now=SCENARIOS[0].clock.now)
            return len(neo4j_keys(empty_graph, compiled))

        if p.endswith("empty"):
            continue
        yes, no, unknown = count(p), count(f"not ({p})"), count(f"{name} is empty")
        assert yes + no + unknown == total, p
        checked += 1
    assert checked > 15
