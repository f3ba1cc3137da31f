"""Keyed refreshes of many segments in one round (server.refresh.keyed) against the real Neo4j
and Redis: the combined evaluation equals each definition evaluated alone, a round's result
equals the truth with a run and a version per segment, and a definition Neo4j refuses fails
only its own segment."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime
from typing import Any

import pytest

from server.refresh import membership, runs
from server.refresh.graph import Graph
from server.refresh.keyed import refresh_keyed
from server.refresh.many_queries import combined_query, evaluate_many
from server.refresh.passes import refresh_pass
from server.refresh.records import Definition, MemberQuery, RunStatus, SegmentInfo
from server.refresh.refresh import RefreshEnv
from tests.refresh.helpers import (
    active_members,
    add_people,
    literal_compiler,
    make_segment,
    members_with,
    segment_props,
)

pytestmark = pytest.mark.anyio

BETWEEN = MemberQuery(
    cypher="MATCH (p:Person) WHERE p.score >= $p1 AND p.score < $p10 RETURN p.id AS key",
    params={"p1": 20, "p10": 60}, profile_label="Person", profile_key="id",
    keys_cypher="MATCH (p:Person) WHERE p.id IN $keys AND p.score >= $p1 AND p.score < $p10 "
    "RETURN p.id AS key",
)  # fmt: skip


def test_each_definition_gets_its_own_parameter_names() -> None:
    other = dataclasses.replace(BETWEEN, params={"p1": 70, "p10": 90})
    text, params = combined_query([(BETWEEN, [1, 2]), (other, [3])])
    assert "$q0_p1 AND p.score < $q0_p10" in text
    assert "$q1_p1 AND p.score < $q1_p10" in text
    assert "$p1" not in text
    assert "$keys" not in text
    assert params == {"q0_p1": 20, "q0_p10": 60, "q0_keys": [1, 2],
                      "q1_p1": 70, "q1_p10": 90, "q1_keys": [3]}  # fmt: skip


async def test_evaluating_together_equals_evaluating_each_alone(graph: Graph) -> None:
    rng = random.Random(3)
    scores = {i: rng.randrange(100) for i in range(1, 201)}
    await add_people(graph, scores)
    wanted = []
    for _ in range(9):
        low = rng.randrange(100)
        query = dataclasses.replace(BETWEEN, params={"p1": low, "p10": low + rng.randrange(50)})
        wanted.append((query, rng.sample([*sorted(scores), 999], rng.randrange(0, 40))))
    together = await evaluate_many(graph, wanted)
    alone = [await membership.evaluate_among(graph, q, keys) for q, keys in wanted]
    assert together == alone
    assert any(together)


def _compiler(segment: SegmentInfo, definition: Definition, now: datetime) -> MemberQuery:
    """`literal_compiler`, and `refused` whose restricted form Neo4j refuses when it runs."""
    if definition.text != "refused":
        return literal_compiler(segment, definition, now)
    return MemberQuery(
        cypher="MATCH (p:Person) RETURN p.id AS key", profile_label="Person", profile_key="id",
        keys_cypher="MATCH (p:Person) WHERE p.id IN $keys AND p.score >= 1 / size($keys) - 1 / 0 "
        "RETURN p.id AS key",
    )  # fmt: skip


async def test_a_round_equals_the_truth_and_fails_only_a_refused_definition(
    env: RefreshEnv,
) -> None:
    env = dataclasses.replace(env, compiler=_compiler)
    scores = {i: i % 100 for i in range(1, 301)}
    await add_people(env.graph, scores)
    texts = {"s10": "score >= 10", "s50": "score >= 50", "s90": "score >= 90", "bad": "refused"}
    for sid, text in texts.items():
        await make_segment(env.graph, sid, text)
    await refresh_pass(env, sorted(texts), "MANUAL")
    before = {sid: (await segment_props(env.graph, sid))["activeVersion"] for sid in texts}
    moved = {5: 95, 60: 1, 150: 55}  # ids 5, 60 and 150 cross thresholds both ways
    scores |= moved
    await add_people(env.graph, moved)
    keys: list[Any] = sorted(moved)
    results = await refresh_keyed(env, dict.fromkeys(texts, keys), "LIVE")
    by_id = {r.outcome.segment_id: r for r in results}
    assert by_id["bad"].outcome.status is RunStatus.FAILED
    bad = await segment_props(env.graph, "bad")
    assert (bad["activeVersion"], bad.get("pendingRun")) == (before["bad"], None)
    for sid, minimum in (("s10", 10), ("s50", 50), ("s90", 90)):
        result = by_id[sid]
        assert result.outcome.status is RunStatus.SUCCESSFUL, result.outcome
        assert await active_members(env.graph, sid) == members_with(scores, minimum)
        assert result.outcome.version == before[sid] + 1
        assert result.outcome.member_count == len(members_with(scores, minimum))
        entered = {k for k in keys if scores[k] >= minimum} - {k for k in keys if
                                                                 (k % 100) >= minimum}  # fmt: skip
        assert set(result.entered) == entered
        [run, *_] = await runs.list_runs(env.graph, sid)
        assert (run.status, run.trigger, run.version) == (RunStatus.SUCCESSFUL, "LIVE",
                                                          before[sid] + 1)  # fmt: skip
        assert run.member_count == result.outcome.member_count
