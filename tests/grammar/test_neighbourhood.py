"""The neighbourhood of a few profiles, fetched from the real Neo4j, is enough for the evaluator
to decide them exactly as the compiled query does; and it explains one profile."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

import grammar
from grammar.evaluate import Key, evaluate_segment
from grammar.explain_membership import explain_membership
from grammar.neighbourhood import (
    chains_of,
    dataset_from_rows,
    memberships_from_rows,
    memberships_query,
    neighbourhood_queries,
)
from tests.grammar.golden_io import cases, compile_case
from tests.grammar.schemas import DEFAULT, NOW
from tests.grammar.test_neo4j import CUSTOMERS, DATA, ORDERS, REST, ago

pytestmark = pytest.mark.services


@pytest.fixture
def graph(empty_graph: neo4j.Driver) -> neo4j.Driver:
    """test_neo4j's hand-built dataset."""
    empty_graph.execute_query(DATA, customers=CUSTOMERS, orders=ORDERS)
    nov15, feb1 = ago(134.5), ago(56)  # the two email events, as datetimes
    empty_graph.execute_query(REST, d3=ago(3), d12=ago(12), d20=ago(20), nov15=nov15, feb1=feb1)
    return empty_graph


def fetch(driver: neo4j.Driver, compiled: grammar.CompiledSegment, keys: list[Key]) -> Any:
    results = [
        [r.data() for r in driver.execute_query(q.text, {"keys": keys}).records]
        for q in neighbourhood_queries(compiled.bound)
    ]
    data = dataset_from_rows(compiled.bound, results)
    every = [k for rows in data.entities.values() for k in rows]
    query = memberships_query(compiled.bound)
    rows = driver.execute_query(query.text, {**query.params, "keys": every}).records
    return data, memberships_from_rows([r.data() for r in rows])


def test_chains_are_every_prefix_of_every_walk() -> None:
    compiled = grammar.compile_segment(
        "segment Customer where any Product (category = 'x') and count Order > 1", DEFAULT, now=NOW
    )
    lengths = [len(c.steps) for c in chains_of(compiled.bound)]
    assert lengths == [0, 1, 2, 3]  # Customer; Order; OrderLine; Product


@pytest.mark.parametrize("name", [n for n in cases() if not n.startswith("club")])
def test_neighbourhoods_decide_profiles_as_neo4j_does(graph: neo4j.Driver, name: str) -> None:
    compiled = compile_case(name)
    key = compiled.bound.audience.key_attribute.name
    label = compiled.bound.audience.label
    keys = [
        r["k"] for r in graph.execute_query(f"MATCH (n:`{label}`) RETURN n.`{key}` AS k").records
    ]
    selected = {r["key"] for r in graph.execute_query(compiled.cypher, compiled.params).records}
    for one in keys:  # one profile at a time, as the API asks
        data, segments = fetch(graph, compiled, [one])
        assert (one in evaluate_segment(compiled.bound, data, segments=segments)) == (
            one in selected
        ), (name, one)
        explained = explain_membership(compiled.bound, data, one, segments=segments)
        assert explained.member == (one in selected)
