"""Plan warm-up of the live rounds (server.live.warm_plans) against the real Neo4j and Redis.

Whether a query was planned is read from Neo4j's query cache itself: `db.clearQueryCaches()`
says how many plans it dropped, so "clear, run some queries, clear" counts the plans those
queries added. The first tests pin down how Neo4j keys that cache (the warm-up depends on it);
the last shows that the combined queries of a real live change, after a warm-up, add no plan.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any, LiteralString

import neo4j

from graph_schema import default_schema
from server.live.warm_plans import PlanWarmer, warm_plans
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.refresh import RefreshEnv
from server.settings import Settings
from tests.api.conftest import Api, create_ok
from tests.live.rounds import customer, live_rig, quiet
from tests.live.test_levels import SEGMENTS

# A segment reading a related entity: a changed order is walked back to its customer.
ORDERS = {"web_orders": "segment Customer where any Order (channel = 'web' and total >= 100)"}
PROBE = "MATCH (c:Customer) WHERE c.customerId IN $keys AND c.satisfaction > $t RETURN count(c)"


def _plans_added(driver: neo4j.Driver, *runs: tuple[str, dict[str, Any]]) -> int:
    """How many plans running `runs` (in order) left in Neo4j's query cache."""
    driver.execute_query("CALL db.clearQueryCaches()")
    for text, params in runs:
        driver.execute_query(text, params)
    found, _, _ = driver.execute_query("CALL db.clearQueryCaches()")
    message = str(found[0][0])
    if "already empty" in message:
        return 0
    match = re.search(r"cleared of (\d+) quer", message)
    assert match, message
    return int(match.group(1))


def test_neo4j_keys_plans_by_text_parameter_types_and_list_size(
    empty_graph: neo4j.Driver,
) -> None:
    one, other = {"keys": ["a"], "t": 3}, {"keys": ["b"], "t": 5}
    assert _plans_added(empty_graph, (PROBE, one), (PROBE, other)) == 1  # values: same plan
    assert _plans_added(empty_graph, (PROBE, one), (PROBE, {"keys": [1], "t": 3})) == 2
    assert _plans_added(empty_graph, (PROBE, one), (PROBE, {"keys": ["a"], "t": 3.5})) == 2
    # Lists by size bucket: 1, 2-10, 11-100, ...
    assert _plans_added(empty_graph, (PROBE, one), (PROBE, {"keys": ["a", "b"], "t": 3})) == 2
    ten = {"keys": list("abcdefghij"), "t": 3}
    assert _plans_added(empty_graph, (PROBE, {"keys": ["a", "b"], "t": 3}), (PROBE, ten)) == 1
    # EXPLAIN does not plan for the query itself: the warm-up has to run it.
    assert _plans_added(empty_graph, ("EXPLAIN " + PROBE, one), (PROBE, one)) == 2


@dataclass(frozen=True, slots=True)
class Recording(Graph):
    """The real graph, noting each combined keyed query and reverse walk (text, parameters)
    it reads."""

    combined: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def read_with(self, query: LiteralString, params: dict[str, Any]) -> list[Any]:
        if query.endswith(("AS found", "AS keys")):
            self.combined.append((query, params))
        return await Graph.read_with(self, query, params)


def test_a_live_change_after_the_warm_up_plans_none_of_its_round_queries(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    for name, text in SEGMENTS.items():
        create_ok(api, name=name, definition={"text": text})
    for name, text in ORDERS.items():
        create_ok(api, name=name, definition={"text": text})
    order = {"entity": "Order", "key": "o1", "properties": {"total": 150.0}}
    warmed, sent = asyncio.run(_warm_then_change(settings, [customer("c0", 90, "Oslo"), order]))
    assert len(sent) >= 3  # one round per level at least
    assert any(text.endswith("AS keys") for text, _ in sent)  # a walk from a changed order
    assert {text for text, _ in sent} <= {text for text, _ in warmed}
    # The round's queries, after the warm-up's, add no plan to the cache...
    assert _plans_added(empty_graph, *warmed, *sent) == _plans_added(empty_graph, *warmed)
    # ...whereas alone they would be planned.
    assert _plans_added(empty_graph, *sent) == len({text for text, _ in sent})


async def _warm_then_change(
    settings: Settings, records: list[dict[str, Any]]
) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    order = {"type": "track", "entity": "Order", "key": "o1",
             "properties": {"total": 5.0, "channel": "web"},
             "profile": {"entity": "Customer", "key": "c1"}}  # fmt: skip
    async with live_rig(settings, Recording, [order]) as rig:
        rig.graph.combined.clear()
        assert await warm_plans(rig.env, rig.schema) == len(rig.graph.combined) > 0
        warmed = list(rig.graph.combined)
        rig.graph.combined.clear()
        await rig.change(records)
        return warmed, list(rig.graph.combined)


def test_a_warm_up_with_neo4j_down_is_logged_not_raised(settings: Settings) -> None:
    async def warm() -> tuple[int, tuple[tuple[str, int], ...] | None]:
        driver = neo4j.AsyncGraphDatabase.driver(
            "bolt://127.0.0.1:1", auth=(settings.neo4j_user, settings.neo4j_password),
            connection_acquisition_timeout=2, max_transaction_retry_time=1,  # not 30 s of retries
        )  # fmt: skip
        try:
            schema = default_schema()
            env = RefreshEnv(graph=Graph(driver, settings.neo4j_database),
                             compiler=grammar_compiler(schema), publish=quiet)  # fmt: skip
            warmer = PlanWarmer(env, schema)
            warmer.start()  # returns at once
            assert warmer.task is not None
            ran = await warmer.task
            return ran, warmer.warmed_for
        finally:
            await driver.close()

    assert asyncio.run(warm()) == (0, None)
