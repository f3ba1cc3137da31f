"""Dependency order, cycles and upstream failures (pure), and the save-time cycle check."""

from __future__ import annotations

import pytest

from server.refresh.graph import Graph
from server.refresh.order import (
    DependencyCycle,
    check_references,
    find_cycle,
    topological_order,
    upstream_failure,
)
from tests.refresh.helpers import make_segment

DEPS = {"c": ["b"], "b": ["a"], "a": [], "d": ["a", "c"], "x": []}


def test_inputs_come_before_the_segments_reading_them() -> None:
    assert topological_order(["d", "c", "b", "a", "x"], DEPS) == ["a", "b", "c", "d", "x"]


def test_order_holds_through_segments_outside_the_pass() -> None:
    assert topological_order(["d", "a"], DEPS) == ["a", "d"]
    assert topological_order(["c", "a"], DEPS) == ["a", "c"]


def test_a_cycle_is_found_and_named() -> None:
    deps = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}
    assert find_cycle(deps) == ["a", "b", "c", "a"]
    with pytest.raises(DependencyCycle) as raised:
        topological_order(["d"], deps)
    assert raised.value.cycle == ["a", "b", "c", "a"]
    assert find_cycle(DEPS) is None


def test_a_failed_input_is_found_transitively() -> None:
    assert upstream_failure("d", DEPS, {"a": "FAILED"}) == "input a FAILED"
    assert upstream_failure("c", DEPS, {"b": "SKIPPED"}) == "input b SKIPPED"
    assert upstream_failure("x", DEPS, {"a": "FAILED"}) is None


@pytest.mark.anyio
async def test_saving_a_definition_that_closes_a_loop_is_refused(graph: Graph) -> None:
    await make_segment(graph, "a", "score >= 1")
    await make_segment(graph, "b", "in a and score >= 2", reads=("a",))
    await check_references(graph, "a", [])  # unchanged: fine
    with pytest.raises(DependencyCycle) as raised:
        await check_references(graph, "a", ["b"])
    assert raised.value.cycle == ["a", "b", "a"]
