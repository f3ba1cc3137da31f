"""Expansion segments over HTTP, refreshed by the real engine on seeded profiles: a planted
group half of which is the source; the other half must be found well above random."""

from __future__ import annotations

import asyncio
from typing import Any

import neo4j
import numpy as np
import pytest

from graph_schema import default_schema
from server.refresh.definitions import grammar_compiler
from server.refresh.graph import Graph
from server.refresh.passes import refresh_pass
from server.refresh.records import RefreshOutcome, RunStatus
from server.refresh.refresh import RefreshEnv
from server.refresh.schema import ensure_refresh_schema
from server.refresh.sources import sources_for
from server.settings import Settings
from tests.api.conftest import Api, Json, as_key, codes, create_ok, key_for, running
from tests.api.test_access import SECURE, admin_of
from tests.api.test_access import codes as error_codes
from tests.api.test_members import node_id
from tests.api.test_splits import members

BACKGROUND, PLANTED = 2_700, 300  # half of the planted group is the source ("src")

EXPAND = """
mutation($input: CreateExpansionSegmentInput!) {
  createExpansionSegment(input: $input) {
    segment { id name type audience } userErrors { code field }
  }
}
"""

SHOW = """
query($name: String!, $profile: String!) {
  segment(name: $name) { type status statusDetail memberCount expansion {
    source { name } population { name } features outputPercent includeSource
    similarity(profile: $profile)
    quality { features sourceSize populationSize outputSize holdoutPrecision holdoutLift
      randomPrecision holdoutRecovered holdoutHidden scoreHistogram
      bands { band count } reach { minSimilarity size } topFactors { feature difference } } } }
}
"""


def seed(driver: neo4j.Driver) -> dict[str, str]:
    """Customers: a planted group with a narrow credit balance and high satisfaction, the
    rest spread wide. Returns key -> role (src, twin or other)."""
    rng = np.random.default_rng(7)
    rows: list[dict[str, Any]] = []
    roles: dict[str, str] = {}
    for i in range(BACKGROUND + PLANTED):
        key = f"c{i:05}"
        planted = i >= BACKGROUND
        role = ("src" if i % 2 else "twin") if planted else "other"
        credit = rng.normal(5000, 150) if planted else rng.lognormal(7.5, 1.2)
        sat = int(rng.integers(88, 96)) if planted else int(rng.integers(0, 101))
        rows.append({"k": key, "credit": float(credit), "sat": sat, "hint": role})
        roles[key] = role
    driver.execute_query(
        "CREATE CONSTRAINT customer_id IF NOT EXISTS "
        "FOR (c:Customer) REQUIRE c.customerId IS UNIQUE"
    )
    driver.execute_query(
        "UNWIND $rows AS r CREATE (:Customer {customerId: r.k, creditBalance: r.credit, "
        "satisfaction: r.sat, segmentHint: r.hint, newsletter: false})",
        rows=rows,
    )
    return roles


def refresh(settings: Settings, *names: str) -> list[RefreshOutcome]:
    """One pass of the real engine, with the sources a worker uses."""

    async def run() -> list[RefreshOutcome]:
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        )
        try:
            graph = Graph(driver, settings.neo4j_database)
            await ensure_refresh_schema(graph)
            found = await graph.read("MATCH (s:_Segment) WHERE s.name IN $n RETURN s.id AS id",
                                     n=list(names))  # fmt: skip
            schema = default_schema()
            env = RefreshEnv(graph=graph, compiler=grammar_compiler(schema), publish=_quiet,
                             source=sources_for(schema), batch_size=5000)  # fmt: skip
            return await refresh_pass(env, [r["id"] for r in found], "MANUAL")
        finally:
            await driver.close()

    return asyncio.run(run())


async def _quiet(event: dict[str, Any]) -> None:
    return None


def expand(api: Api, **fields: Any) -> Json:
    payload: Json = api.data(EXPAND, input=fields)["createExpansionSegment"]
    return payload


def source_segment(api: Api, name: str = "src") -> Json:
    text = 'segment Customer where segmentHint = "src"'
    return create_ok(api, name=name, definition={"text": text})


@pytest.fixture
def roles(api: Api, empty_graph: neo4j.Driver) -> dict[str, str]:
    return seed(empty_graph)


def test_an_expansion_finds_the_planted_twins_and_never_the_source(
    api: Api, roles: dict[str, str], settings: Settings, empty_graph: neo4j.Driver
) -> None:
    src = source_segment(api)
    made = expand(api, name="like_src", source=src["id"])
    assert made["userErrors"] == []
    assert made["segment"]["type"] == "EXPANSION"
    # the expansion is named first: the pass still runs the source before it
    outcomes = refresh(settings, "like_src", "src")
    assert [o.status for o in outcomes] == [RunStatus.SUCCESSFUL] * 2, outcomes
    # run order: the source first (the expansion would fail on a source never refreshed)
    assert [o.segment_id for o in outcomes] == [node_id(src["id"]), node_id(made["segment"]["id"])]
    found = members(empty_graph, "like_src")
    assert not {k for k in found if roles[k] == "src"}  # the source is excluded
    population = BACKGROUND + PLANTED // 2
    assert 0 < len(found) <= round(population * 0.2)
    twins = sum(roles[k] == "twin" for k in found)
    lift = (twins / len(found)) / ((PLANTED // 2) / population)
    assert lift >= 3, lift
    twin = next(k for k in found if roles[k] == "twin")
    shown = api.data(SHOW, name="like_src", profile=twin)["segment"]
    e = shown["expansion"]
    assert (e["source"]["name"], e["population"], e["outputPercent"], e["includeSource"]) == (
        "src", None, 20.0, False)  # fmt: skip
    assert e["similarity"] >= 0.4
    q = e["quality"]
    assert (q["sourceSize"], q["populationSize"], q["outputSize"]) == (150, population, len(found))
    assert sum(q["scoreHistogram"]) == population == sum(b["count"] for b in q["bands"])
    sizes = [p["size"] for p in q["reach"]]
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[0] >= len(found)  # every member scores at least 0.4
    assert q["holdoutHidden"] == 30
    assert q["randomPrecision"] == pytest.approx(30 / (population + 30))
    assert q["holdoutPrecision"] == pytest.approx(q["holdoutRecovered"] / len(found), rel=0.2)
    assert q["holdoutLift"] >= 3
    factors = {f["feature"] for f in q["topFactors"][:2]}
    assert factors == {"Customer.creditBalance", "Customer.satisfaction"}
    other = next(k for k in roles if roles[k] == "other" and k not in found)
    assert api.data(SHOW, name="like_src", profile=other)["segment"]["expansion"][
        "similarity"] is None  # fmt: skip
    deleted = api.data(
        "mutation($id: ID!) { deleteSegment(id: $id, force: false) { deletedId } }",
        id=made["segment"]["id"],
    )["deleteSegment"]
    assert deleted["deletedId"] == made["segment"]["id"]
    left, _, _ = empty_graph.execute_query("MATCH (m:_ExpansionModel) RETURN count(m) AS n")
    assert left[0]["n"] == 0


def test_output_size_features_population_and_source_inclusion(
    api: Api, roles: dict[str, str], settings: Settings, empty_graph: neo4j.Driver
) -> None:
    src = source_segment(api)
    pool = create_ok(api, name="pool", definition={
        "text": 'segment Customer where segmentHint = "twin" or satisfaction < 50'})  # fmt: skip
    made = [
        expand(api, name="five", source=src["id"], outputPercent=5, features=["creditBalance"]),
        expand(api, name="with_src", source=src["id"], includeSource=True, population=pool["id"]),
    ]
    assert [m["userErrors"] for m in made] == [[], []]
    assert all(o.status is RunStatus.SUCCESSFUL
               for o in refresh(settings, "src", "pool", "five", "with_src"))  # fmt: skip
    five = members(empty_graph, "five")
    assert len(five) <= round((BACKGROUND + PLANTED // 2) * 0.05)
    shown = api.data(SHOW, name="five", profile="x")["segment"]["expansion"]
    assert shown["features"] == ["creditBalance"]
    assert shown["quality"]["features"] == ["Customer.creditBalance"]
    with_src = members(empty_graph, "with_src")
    source, pooled = members(empty_graph, "src"), members(empty_graph, "pool")
    assert source <= with_src
    assert with_src - source <= pooled  # picked only from the population segment
    assert len(with_src - source) <= round(len(pooled) * 0.2)


def test_refusals_have_codes_and_write_nothing(api: Api, empty_graph: neo4j.Driver) -> None:
    src = source_segment(api)
    draft = create_ok(api, name="draft", definition={"text": "segment Customer where nope = 1"})
    contacts = create_ok(api, name="contacts", audience="Contact",
                         definition={"text": "segment Contact where firstName = 'A'"})  # fmt: skip
    cases = [
        ({"source": "U2VnbWVudDpub3Bl"}, [("NOT_FOUND", ["input", "source"])]),
        ({"source": draft["id"]}, [("DEFINITION_INVALID", ["input", "source"])]),
        ({"source": src["id"], "outputPercent": 0},
         [("INVALID_VALUE", ["input", "outputPercent"])]),
        ({"source": src["id"], "outputPercent": 101},
         [("INVALID_VALUE", ["input", "outputPercent"])]),
        ({"source": src["id"], "features": ["creditBalance", "shoeSize"]},
         [("UNKNOWN_FEATURE", ["input", "features", "1"])]),
        ({"source": src["id"], "population": contacts["id"]},
         [("AUDIENCE_MISMATCH", ["input", "population"])]),
        ({"source": src["id"], "name": "src"}, [("NAME_TAKEN", ["input", "name"])]),
    ]  # fmt: skip
    for fields, expected in cases:
        assert codes(expand(api, **({"name": "x"} | fields))) == expected, fields
    found, _, _ = empty_graph.execute_query("MATCH (s:_Segment) RETURN count(s) AS n")
    assert found[0]["n"] == 3


def test_the_source_is_guarded_and_viewers_cannot_create(
    api: Api, roles: dict[str, str], settings: Settings
) -> None:
    src = source_segment(api)
    made = expand(api, name="like_src", source=src["id"])
    assert made["userErrors"] == []
    refused = api.data(
        "mutation($id: ID!) { deleteSegment(id: $id, force: false) { userErrors { code } } }",
        id=src["id"],
    )["deleteSegment"]
    assert [e["code"] for e in refused["userErrors"]] == ["SEGMENT_IN_USE"]
    redefined = api.data(
        "mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { "
        "userErrors { code field } } }",
        input={"id": made["segment"]["id"], "definition": {"text": "segment Customer"}},
    )["updateSegment"]
    assert codes(redefined) == [("UNSUPPORTED_TYPE", ["input", "definition"])]
    with running(settings.model_copy(update=SECURE)) as secure:
        admin = admin_of(secure, settings)
        viewer = as_key(secure, key_for(admin, "VIEWER"))
        body = viewer.gql(EXPAND, input={"name": "v", "source": src["id"]})
        assert error_codes(body) == ["FORBIDDEN"]
        assert viewer.gql(SHOW, name="like_src", profile="x")["data"]["segment"]["expansion"]
