"""Differential compiler at scale: tests/grammar/test_differential.py's comparison (Neo4j against
the reference evaluator, three-valued truth per profile) over 20 seeded datasets (its 5
scenarios x 4 seeds) in long mode, plus the TLP identity checked inside Neo4j for every
one-group segment: |audience| = |WHERE C| + |WHERE NOT C| + |WHERE C IS NULL| (our conditions
are three-valued: UNKNOWN is neither in C nor in NOT C)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator

import neo4j
import pytest

import grammar
from grammar import bound as b
from grammar.evaluate import evaluate_segment
from tests.conftest import wipe_graph
from tests.grammar.random_data import Pools
from tests.grammar.random_segments import SegmentGenerator
from tests.grammar.test_differential import (
    SCENARIOS,
    Loaded,
    Scenario,
    evaluator_truths,
    neo4j_keys,
    neo4j_truths,
    prepare,
    truth_query,
)
from tests.reliability.figures import long_mode, record, scale

pytestmark = pytest.mark.services

TEST = "Differential compiler"
SEEDS = 4 if long_mode() else 1  # per scenario: 20 datasets in long mode
SCENARIO_COUNT = scale(2, len(SCENARIOS))  # short mode: 2 datasets (CI time)
PER_DATASET = scale(10, 100)


def datasets() -> list[Scenario]:
    return [
        dataclasses.replace(s, name=f"{s.name}-{k}", base_seed=s.base_seed + 7919 * k)
        for k in range(SEEDS)
        for s in SCENARIOS[:SCENARIO_COUNT]
    ]


def count(driver: neo4j.Driver, query: str, params: dict[str, object]) -> int:
    return len(driver.execute_query(query, params).records)


def tlp_counts(driver: neo4j.Driver, members: str, test: str,
               params: dict[str, object]) -> tuple[int, int, int]:  # fmt: skip
    """|WHERE C|, |WHERE NOT C|, |WHERE C IS NULL| from the members query's own text."""
    where = f"\nWHERE {test}\n"
    assert members.count(where) == 1
    variants = (where, f"\nWHERE NOT ({test})\n", f"\nWHERE ({test}) IS NULL\n")
    yes, no, unknown = (count(driver, members.replace(where, v), params) for v in variants)
    return yes, no, unknown


def run_dataset(driver: neo4j.Driver, loaded: Loaded) -> tuple[int, int, list[str], list[str]]:
    """Segments run, TLP checks run, evaluator mismatches, TLP violations."""
    mismatches: list[str] = []
    violations: list[str] = []
    runs = tlps = 0
    audience_sizes = {e.name: len(loaded.data.records(e)) for e in loaded.scenario.schema.profiles}
    for compiled in loaded.generate(PER_DATASET):
        runs += 1
        expected = evaluate_segment(compiled.bound, loaded.data, segments=loaded.segments)
        body = compiled.bound.body
        if isinstance(body, b.BoundSetOperation):
            if neo4j_keys(driver, compiled) != expected:
                mismatches.append(compiled.canonical)
            continue
        truths, members, params = truth_query(compiled.bound, body.condition)
        want = evaluator_truths(loaded, compiled.bound, body.condition)
        if neo4j_truths(driver, truths, params) != want:
            mismatches.append(compiled.canonical)
        if compiled.forms.driving_clause is not None and neo4j_keys(driver, compiled) != expected:
            mismatches.append(f"candidate-driven: {compiled.canonical}")
        test = members.split("\nWHERE ", 1)[1].rsplit("\nRETURN ", 1)[0]
        yes, no, unknown = tlp_counts(driver, members, test, dict(params))
        tlps += 1
        total = audience_sizes[compiled.audience]
        by_truth = [sum(1 for t in want.values() if t is v) for v in (True, False, None)]
        if yes + no + unknown != total or [yes, no, unknown] != by_truth:
            violations.append(f"{compiled.canonical}: {yes}+{no}+{unknown} of {total}, "
                              f"evaluator {by_truth}")  # fmt: skip
    for compiled in candidate_segments(loaded, PER_DATASET):  # the candidate-driven shape
        runs += 1
        expected = evaluate_segment(compiled.bound, loaded.data, segments=loaded.segments)
        if neo4j_keys(driver, compiled) != expected:
            mismatches.append(f"candidate-driven: {compiled.canonical}")
    return runs, tlps, mismatches, violations


def candidate_segments(loaded: Loaded, count: int) -> Iterator[grammar.CompiledSegment]:
    """Conjunctions around a top-level block over indexed attributes (see
    `SegmentGenerator.candidate_segment`)."""
    s = loaded.scenario
    rng = random.Random(s.seed + 7)
    generator = SegmentGenerator(s.schema, Pools.of(s.clock), rng, hops=s.hops)
    for _ in range(count):
        text = generator.candidate_segment()
        yield grammar.compile_segment(text, s.schema, now=s.clock.now, timezone=s.clock.tz)


def test_neo4j_agrees_with_the_evaluator_over_seeded_datasets(empty_graph: neo4j.Driver) -> None:
    runs = tlps = 0
    mismatches: list[str] = []
    violations: list[str] = []
    chosen = datasets()
    for scenario in chosen:
        wipe_graph(empty_graph)
        r, t, m, v = run_dataset(empty_graph, prepare(empty_graph, scenario))
        runs, tlps = runs + r, tlps + t
        mismatches += [f"[{scenario.name}] {x}" for x in m]
        violations += [f"[{scenario.name}] {x}" for x in v]
    record(TEST, f"random segments x {len(chosen)} seeded datasets: Neo4j vs evaluator", runs,
           f"{len(mismatches)} mismatches", "0 mismatches", not mismatches)  # fmt: skip
    tlp = "TLP: count(C) + count(NOT C) + count(C IS NULL) = audience, split as the evaluator's"
    record(TEST, tlp, tlps, f"{len(violations)} violations", "0 violations",
           not violations)  # fmt: skip
    assert not mismatches, mismatches[:5]
    assert not violations, violations[:5]
