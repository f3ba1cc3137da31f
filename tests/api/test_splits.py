"""Splits through the API over HTTP; memberships written by the real refresh engine (the real
segment compiler) on customers in the real Neo4j."""

from __future__ import annotations

import asyncio
from typing import Any

import neo4j
from arq.connections import RedisSettings, create_pool

from graph_schema import default_schema
from server.access.roles import local_developer
from server.api.context import Deps
from server.api.segments import splits
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.passes import refresh_pass
from server.refresh.records import RefreshOutcome, RunStatus
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.settings import Settings
from server.splits.buckets import bucket_of
from server.store.db import Db
from tests.api.conftest import Api, Json, codes, create_ok
from tests.api.test_members import node_id

CUSTOMERS = 2000
SPLIT = """
mutation($input: SplitSegmentInput!) {
  splitSegment(input: $input) {
    split { seed unassignedPercent parent { name }
            groups { percent buckets { start end } segment { name type } } }
    groups { id name type audience schedule { kind } definition { text references } }
    userErrors { code field }
  }
}
"""
UPDATE = """
mutation($input: UpdateSplitInput!) {
  updateSplit(input: $input) {
    split { seed groups { percent buckets { start end } segment { name } } }
    userErrors { code field }
  }
}
"""
SEGMENT = """
query($name: String!) {
  segment(name: $name) {
    id memberCount dependents { kind name }
    split { seed parent { name } groups { segment { name } percent } }
  }
}
"""


MEMBERSHIP = """
query($name: String!, $profile: String!) {
  membership(segmentName: $name, profile: $profile) { member matchesNow clauses { detail } }
}
"""


def seed_customers(driver: neo4j.Driver, scores: dict[str, int]) -> None:
    # What an import creates: refreshes find each member's profile by key.
    driver.execute_query(
        "CREATE CONSTRAINT customer_id IF NOT EXISTS "
        "FOR (c:Customer) REQUIRE c.customerId IS UNIQUE"
    )
    driver.execute_query(
        "UNWIND keys($s) AS k CREATE (:Customer {customerId: k, satisfaction: $s[k]})", s=scores
    )


def rescore(driver: neo4j.Driver, scores: dict[str, int]) -> None:
    driver.execute_query(
        "MATCH (c:Customer) WHERE c.customerId IN keys($s) SET c.satisfaction = $s[c.customerId]",
        s=scores,
    )


def customers(score: int = 80) -> dict[str, int]:
    return {f"c{i:05}": score for i in range(CUSTOMERS)}


def refresh(settings: Settings, *names: str) -> list[RefreshOutcome]:
    """One pass of the real refresh engine over the named segments."""

    async def run() -> list[RefreshOutcome]:
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        )
        try:
            graph = Graph(driver, settings.neo4j_database)
            await ensure_refresh_schema(graph)  # as a worker does at start
            found = await graph.read("MATCH (s:_Segment) WHERE s.name IN $n RETURN s.id AS id",
                                     n=list(names))  # fmt: skip
            env = RefreshEnv(graph=graph, compiler=grammar_compiler(default_schema()),
                             publish=_quiet, batch_size=5000)  # fmt: skip
            return await refresh_pass(env, [r["id"] for r in found], "MANUAL")
        finally:
            await driver.close()

    return asyncio.run(run())


async def _quiet(event: dict[str, Any]) -> None:
    return None


def members(driver: neo4j.Driver, name: str) -> set[str]:
    found, _, _ = driver.execute_query(
        "MATCH (s:_Segment {name: $name}) WITH s.id AS id, s.activeVersion AS v "
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = id "
        "AND m.since <= v AND (m.until IS NULL OR m.until > v) RETURN collect(m.key) AS keys",
        name=name,
    )
    return set(found[0]["keys"])


def split(api: Api, parent: Json, groups: list[Json], **fields: Any) -> Json:
    payload: Json = api.data(SPLIT, input={"segment": parent["id"], "groups": groups} | fields)
    result: Json = payload["splitSegment"]
    return result


def split_ok(api: Api, parent: Json, groups: list[Json], **fields: Any) -> Json:
    result = split(api, parent, groups, **fields)
    assert result["userErrors"] == []
    return result


def layout(shown: Json) -> list[tuple[str, float, list[Json]]]:
    return [(g["segment"]["name"], g["percent"], g["buckets"]) for g in shown["groups"]]


LOYAL = "segment Customer where satisfaction >= 50"
AB = [
    {"name": "group_a", "percent": 45},
    {"name": "group_b", "percent": 45},
    {"name": "holdout", "displayName": "Holdout", "percent": 10},
]


def test_a_split_makes_groups_that_partition_the_parent(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    seed_customers(empty_graph, customers())
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    result = split_ok(api, parent, AB, seed="spring-test")

    assert result["split"]["seed"] == "spring-test"
    assert result["split"]["unassignedPercent"] == 0
    assert layout(result["split"]) == [
        ("group_a", 45, [{"start": 0, "end": 4500}]),
        ("group_b", 45, [{"start": 4500, "end": 9000}]),
        ("holdout", 10, [{"start": 9000, "end": 10_000}]),
    ]  # fmt: skip
    group = result["groups"][0]
    assert (group["type"], group["audience"], group["schedule"]["kind"]) == (
        "COMPOUND", "Customer", "MANUAL"
    )  # fmt: skip
    assert group["definition"]["references"] == ["loyal"]

    outcomes = refresh(settings, "loyal", "group_a", "group_b", "holdout")
    assert [o.status for o in outcomes] == [RunStatus.SUCCESSFUL] * 4
    found = {g: members(empty_graph, g) for g in ("group_a", "group_b", "holdout")}
    for name, share in (("group_a", 0.45), ("group_b", 0.45), ("holdout", 0.10)):
        # binomial sd at n=2000 is at most 22; four of them
        assert abs(len(found[name]) - share * CUSTOMERS) < 90, (name, len(found[name]))
        assert api.data(SEGMENT, name=name)["segment"]["memberCount"] == len(found[name])
    assert found["group_a"] | found["group_b"] | found["holdout"] == set(customers())
    assert sum(len(m) for m in found.values()) == CUSTOMERS  # disjoint
    assert all(bucket_of("spring-test", k) < 4500 for k in found["group_a"])
    # membership(...) of a group explains by parent and bucket, not by its definition text.
    for key in sorted(customers())[:40]:
        shown = api.data(MEMBERSHIP, name="group_a", profile=key)["membership"]
        assert shown["member"] is shown["matchesNow"] is (key in found["group_a"])
        assert shown["clauses"][2]["detail"] == f"bucket {bucket_of('spring-test', key)} of 10000"


def test_groups_are_segments_the_language_can_read(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    seed_customers(empty_graph, customers())
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    split_ok(api, parent, AB)
    text = "segment Customer where in segment group_a and satisfaction >= 80"
    reader = create_ok(api, name="reader", definition={"text": text})
    assert reader["definition"]["valid"] is True

    refresh(settings, "reader", "group_a", "loyal")

    assert members(empty_graph, "reader") == members(empty_graph, "group_a")
    assert len(members(empty_graph, "reader")) > 0


def test_a_profile_keeps_its_group_across_parent_refreshes(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    scores = customers() | {f"c{i:05}": 10 for i in range(0, CUSTOMERS, 2)}
    seed_customers(empty_graph, scores)
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    split_ok(api, parent, AB)
    refresh(settings, "loyal", "group_a", "group_b", "holdout")
    before = {g: members(empty_graph, g) for g in ("group_a", "group_b", "holdout")}

    # Some members leave the parent, others join it.
    changed = {f"c{i:05}": 10 for i in range(1, 600, 2)} | {
        f"c{i:05}": 90 for i in range(0, 600, 2)
    }
    rescore(empty_graph, changed)
    refresh(settings, "loyal", "group_a", "group_b", "holdout")

    now_in_parent = members(empty_graph, "loyal")
    assert now_in_parent == {k for k, v in (scores | changed).items() if v >= 50}
    for name, old in before.items():
        assert old & now_in_parent <= members(empty_graph, name)
    everyone = set().union(*(members(empty_graph, g) for g in before))
    assert everyone == now_in_parent


def test_a_changed_percentage_moves_only_the_changed_range(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    seed_customers(empty_graph, customers())
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    result = split_ok(api, parent, [{"name": "group_a", "percent": 20},
                                    {"name": "group_b", "percent": 20}])  # fmt: skip
    seed = result["split"]["seed"]
    assert len(seed) == 16  # generated
    refresh(settings, "loyal", "group_a", "group_b")
    a_before, b_before = members(empty_graph, "group_a"), members(empty_graph, "group_b")
    group_b = api.data(SEGMENT, name="group_b")["segment"]["id"]

    updated = api.data(UPDATE, input={"segment": group_b, "groups": [
        {"name": "group_a", "percent": 30}, {"name": "holdout", "percent": 10.5}
    ]})["updateSplit"]  # fmt: skip

    assert updated["userErrors"] == []
    assert updated["split"]["seed"] == seed
    assert layout(updated["split"]) == [
        ("group_a", 30, [{"start": 0, "end": 2000}, {"start": 4000, "end": 5000}]),
        ("group_b", 20, [{"start": 2000, "end": 4000}]),
        ("holdout", 10.5, [{"start": 5000, "end": 6050}]),
    ]  # fmt: skip
    refresh(settings, "loyal", "group_a", "group_b", "holdout")
    assert members(empty_graph, "group_b") == b_before
    moved = members(empty_graph, "group_a") - a_before
    assert a_before < members(empty_graph, "group_a")
    assert moved == {k for k in customers() if 4000 <= bucket_of(seed, k) < 5000}
    holdout = members(empty_graph, "holdout")
    assert holdout == {k for k in customers() if 5000 <= bucket_of(seed, k) < 6050}


def test_the_split_shows_on_parent_and_groups_and_guards_deletes(api: Api) -> None:
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    split_ok(api, parent, AB, seed="s1")

    for name in ("loyal", "holdout"):
        shown = api.data(SEGMENT, name=name)["segment"]["split"]
        assert shown["seed"] == "s1"
        assert shown["parent"]["name"] == "loyal"
        assert [g["segment"]["name"] for g in shown["groups"]] == ["group_a", "group_b", "holdout"]
    loyal = api.data(SEGMENT, name="loyal")["segment"]
    assert {d["name"] for d in loyal["dependents"]} == {"group_a", "group_b", "holdout"}
    delete = "mutation($id: ID!) { deleteSegment(id: $id) { deletedId userErrors { code } } }"
    refused = api.data(delete, id=parent["id"])["deleteSegment"]
    assert refused == {"deletedId": None, "userErrors": [{"code": "SEGMENT_IN_USE"}]}
    other = create_ok(api, name="other")
    assert api.data(SEGMENT, name="other")["segment"]["split"] is None
    assert other["id"]


def test_bad_splits_are_refused_with_codes_and_nothing_is_written(api: Api) -> None:
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    create_ok(api, name="taken")
    over = split(api, parent, [{"name": "a", "percent": 60}, {"name": "b", "percent": 40.1}])
    assert codes(over) == [("SPLIT_OVER_100", ["input", "groups"])]
    bad = split(api, parent, [
        {"name": "taken", "percent": 10}, {"name": "x y", "percent": 10},
        {"name": "dup", "percent": 12.25}, {"name": "dup", "percent": 1},
    ], seed="has space")  # fmt: skip
    assert sorted(codes(bad)) == sorted([
        ("INVALID_NAME", ["input", "groups", "1", "name"]),
        ("INVALID_VALUE", ["input", "groups", "2", "percent"]),
        ("NAME_TAKEN", ["input", "groups", "3", "name"]),
        ("INVALID_VALUE", ["input", "seed"]),
        ("NAME_TAKEN", ["input", "groups", "0", "name"]),
    ])  # fmt: skip
    assert api.data(SEGMENT, name="loyal")["segment"]["split"] is None
    assert api.data(SEGMENT, name="dup")["segment"] is None

    none = split(api, {"id": "U2VnbWVudDpub3BlCg=="}, AB)
    assert codes(none) == [("NOT_FOUND", ["input", "segment"])]
    draft = create_ok(api, name="draft", definition={"text": "segment Customer where nope = 1"})
    assert codes(split(api, draft, AB)) == [("DEFINITION_INVALID", ["input", "segment"])]


def test_a_split_is_made_once_and_its_groups_are_not_redefined(api: Api) -> None:
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    split_ok(api, parent, AB)
    again = split(api, parent, [{"name": "c", "percent": 1}])
    assert codes(again) == [("ALREADY_SPLIT", ["input", "segment"])]
    group = api.data(SEGMENT, name="group_a")["segment"]
    nested = split(api, group, [{"name": "c", "percent": 1}])
    assert codes(nested) == [("SPLIT_GROUP", ["input", "segment"])]
    update = """mutation($id: ID!) { updateSegment(input: {id: $id, definition: {text: "x"}})
                { userErrors { code field } } }"""
    changed = api.data(update, id=group["id"])["updateSegment"]
    assert codes(changed) == [("SPLIT_GROUP", ["input", "definition"])]
    static = "mutation($id: ID!) { makeSegmentStatic(id: $id) { userErrors { code } } }"
    assert api.data(static, id=group["id"])["makeSegmentStatic"]["userErrors"] == [
        {"code": "SPLIT_GROUP"}
    ]  # fmt: skip
    copy = """mutation($id: ID!) { duplicateSegment(id: $id, name: "copy")
              { userErrors { code } } }"""
    assert api.data(copy, id=group["id"])["duplicateSegment"]["userErrors"] == [
        {"code": "SPLIT_GROUP"}
    ]  # fmt: skip
    parent_copy = api.data(copy, id=parent["id"])["duplicateSegment"]
    assert parent_copy["userErrors"] == []
    assert api.data(SEGMENT, name="copy")["segment"]["split"] is None


def test_update_split_refusals(api: Api) -> None:
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})
    unsplit = api.data(UPDATE, input={"segment": parent["id"], "groups": AB})["updateSplit"]
    assert codes(unsplit) == [("NOT_SPLIT", ["input", "segment"])]
    split_ok(api, parent, [{"name": "group_a", "percent": 50}, {"name": "group_b", "percent": 40}])
    grow = [{"name": "group_a", "percent": 60.5}]
    over = api.data(UPDATE, input={"segment": parent["id"], "groups": grow})["updateSplit"]
    assert codes(over) == [("SPLIT_OVER_100", ["input", "groups"])]
    shown = api.data(SEGMENT, name="loyal")["segment"]["split"]["groups"]
    assert [g["percent"] for g in shown] == [50, 40]
    assert node_id(parent["id"])


def test_concurrent_splits_of_one_segment_make_one_split(api: Api, settings: Settings) -> None:
    parent = create_ok(api, name="loyal", definition={"text": LOYAL})

    async def race() -> list[list[str]]:
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth)
        redis = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        try:
            deps = Deps(db=Db(driver, settings.neo4j_database), redis=redis,
                        schema=default_schema(), principal=local_developer("test"),
                        max_page_size=100, export_root=settings.exports_dir)  # fmt: skip
            pid = node_id(parent["id"])
            tries = [splits.split_segment(deps, pid, None, _halves(i)) for i in range(4)]
            done = await asyncio.gather(*tries)
            return [[p.code.value for p in d.problems] for d in done]
        finally:
            await redis.aclose()
            await driver.close()

    outcomes = asyncio.run(race())

    assert sorted(outcomes) == [[], ["ALREADY_SPLIT"], ["ALREADY_SPLIT"], ["ALREADY_SPLIT"]]
    shown = api.data(SEGMENT, name="loyal")["segment"]["split"]["groups"]
    assert len(shown) == 2


def _halves(i: int) -> list[splits.GroupSpec]:
    return [
        splits.GroupSpec(name=f"{side}{i}", display_name=None, percent=50) for side in ("a", "b")
    ]
