"""Score models and leads through the real app over HTTP, with a real arq worker (burst) on
the real Neo4j and Redis: diagnostics with paths and positions, the publish lifecycle, runs,
leads in score order with breakdown and history, roles and PII masking, scores in segments."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import neo4j
import pytest
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker, func

from graph_schema import default_schema
from server.api.common import decode_gid
from server.leads.jobs import progress_key, redis_publisher
from server.leads.run import ScoreEnv
from server.leads.schema_attributes import with_score_attributes
from server.settings import Settings
from server.store.db import Db
from server.worker import score_model
from tests.api.conftest import Api, as_key, create_ok, key_for, running
from tests.leads.conftest import Seeded, seed_customers
from tests.leads.test_run import expected_scores

Json = dict[str, Any]
SECURE = {"auth_required": True}

CREATE = """
mutation($input: CreateScoreModelInput!) {
  createScoreModel(input: $input) {
    scoreModel { id name state latestVersion publishedVersion entity }
    userErrors { code field message span { line column } }
    diagnostics { code field span { line column } }
  }
}
"""
UPDATE = """
mutation($input: UpdateScoreModelInput!) {
  updateScoreModel(input: $input) {
    scoreModel { state latestVersion publishedVersion
                 versions { version state readOnly rules { condition points } } }
    userErrors { code field }
  }
}
"""
PUBLISH = """
mutation($id: ID!) { publishScoreModel(id: $id) {
  scoreModel { state publishedVersion } userErrors { code field } } }
"""
UNPUBLISH = """
mutation($id: ID!) { unpublishScoreModel(id: $id) {
  scoreModel { state publishedVersion } userErrors { code field } } }
"""
RUN = "mutation($id: ID!) { runScoreModel(id: $id) { jobId queued userErrors { code } } }"
VALIDATE = """
mutation($d: ScoreModelDefinitionInput!) {
  validateScoreModel(definition: $d) { valid diagnostics { code field span { line column } } }
}
"""
LEADS = """
query($m: ID!, $grade: String, $ready: Boolean, $first: Int, $after: String) {
  leads(model: $m, grade: $grade, salesReady: $ready, first: $first, after: $after) {
    edges { cursor node { key score grade salesReady salesReadyAt properties } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
BREAKDOWNS = """
query($m: ID!) { leads(model: $m, first: 30) { edges { node { score breakdown { points } } } } }
"""
LEAD = """
query($m: ID!, $p: String!) {
  lead(model: $m, profile: $p) {
    key score grade version breakdown { rule condition points }
    history { score grade salesReady version }
  }
}
"""

DEFINITION: Json = {
    "audience": 'segment Customer where country = "NO"',
    "rules": [
        {"condition": 'city = "Oslo"', "points": 10},
        {"condition": 'any EmailEvent (type = "open" and at in last 30 days)', "points": 3,
         "frequency": "PER_MATCH", "cap": 4},
        {"condition": 'any EmailEvent (type = "click")', "points": -5, "frequency": "WHEN_NONE"},
        {"condition": 'count EmailEvent (type = "click") >= 2', "points": 2,
         "frequency": "PER_MATCH"},
    ],
    "grades": [{"name": "A", "min": 15}, {"name": "B", "min": 5, "max": 15},
               {"name": "C", "max": 5}],
    "salesReadyThreshold": 15,
}  # fmt: skip


async def _flush(settings: Settings) -> None:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    await pool.flushdb()
    await pool.aclose()


@pytest.fixture
def api(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    asyncio.run(_flush(settings))
    with running(settings) as client:
        yield client


async def _get(settings: Settings, key: str) -> bytes:
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    try:
        found = await pool.get(key)
        assert found is not None
        return bytes(found)
    finally:
        await pool.aclose()


def drain(settings: Settings) -> None:
    """A real arq worker over the queue until it is empty (score jobs)."""

    async def main() -> None:
        pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth)
        env = ScoreEnv(db=Db(driver, settings.neo4j_database),
                       schema=with_score_attributes(default_schema()),
                       publish=redis_publisher(pool))  # fmt: skip
        worker = Worker(functions=[func(score_model, max_tries=1)], redis_pool=pool, burst=True,
                        poll_delay=0.05, handle_signals=False, ctx={"score_env": env})  # fmt: skip
        try:
            await worker.main()
            assert worker.jobs_failed == 0
        finally:
            await driver.close()
            await pool.aclose()

    asyncio.run(main())


def create(api: Api, definition: Json = DEFINITION, name: str = "hot_leads") -> Json:
    result: Json = api.data(CREATE, input={"name": name, "definition": definition})
    payload: Json = result["createScoreModel"]
    return payload


def test_diagnostics_carry_codes_paths_and_positions(api: Api) -> None:
    bad = {**DEFINITION, "rules": [
        {"condition": 'city = "Oslo"', "points": 1},
        {"condition": 'city = "Oslo" and\n  cty = 3', "points": 1},
        {"condition": 'city = "Oslo"', "points": 1, "frequency": "PER_MATCH"},
        {"condition": "any EmailEvent", "points": 1, "frequency": "PER_MATCH", "cap": 0},
    ], "grades": [{"name": "A", "min": 10}, {"name": "B", "min": 0, "max": 12}]}  # fmt: skip
    payload = create(api, bad)
    assert payload["scoreModel"] is None
    found = {(d["code"], tuple(d["field"])): d["span"] for d in payload["diagnostics"]}
    rules = ("input", "definition", "rules")
    assert found[("UNKNOWN_ATTRIBUTE", (*rules, "1", "condition"))] == {"line": 2, "column": 3}
    assert ("RULE_NOT_COUNTABLE", (*rules, "2", "condition")) in found
    assert ("INVALID_CAP", (*rules, "3", "cap")) in found
    assert ("GRADE_OVERLAP", ("input", "definition", "grades", "0")) in found
    errors = {(e["code"], tuple(e["field"])) for e in payload["userErrors"]}
    assert ("DEFINITION_INVALID", (*rules, "1", "condition")) in errors
    assert ("INVALID_VALUE", ("input", "definition", "grades", "0")) in errors
    too_many = {**DEFINITION, "rules": [{"condition": 'city = "Oslo"', "points": 1}] * 41}
    assert [(e["code"], e["field"]) for e in create(api, too_many)["userErrors"]] == [
        ("LIMIT_EXCEEDED", ["input", "definition", "rules"])
    ]
    checked = api.data(VALIDATE, d={**DEFINITION, "audience": "Order"})["validateScoreModel"]
    assert checked["valid"] is False
    assert [(d["code"], d["field"]) for d in checked["diagnostics"]] == [
        ("UNKNOWN_AUDIENCE", ["definition", "audience"])
    ]
    assert api.data(VALIDATE, d=DEFINITION)["validateScoreModel"] == {
        "valid": True,
        "diagnostics": [],
    }
    assert api.data("{ scoreModels { edges { node { name } } } }")["scoreModels"]["edges"] == []


def test_published_versions_are_read_only_and_edits_make_a_draft(api: Api) -> None:
    model = create(api)["scoreModel"]
    assert (model["state"], model["latestVersion"], model["entity"]) == ("DRAFT", 1, "Customer")
    edit = {**DEFINITION, "salesReadyThreshold": 20}
    same = api.data(UPDATE, input={"id": model["id"], "definition": edit})["updateScoreModel"]
    assert same["scoreModel"]["latestVersion"] == 1  # a draft is edited in place
    published = api.data(PUBLISH, id=model["id"])["publishScoreModel"]["scoreModel"]
    assert published == {"state": "PUBLISHED", "publishedVersion": 1}
    changed = {**DEFINITION, "rules": DEFINITION["rules"][:1]}
    after = api.data(UPDATE, input={"id": model["id"], "definition": changed})["updateScoreModel"]
    versions = after["scoreModel"]["versions"]
    assert [(v["version"], v["state"], v["readOnly"], len(v["rules"])) for v in versions] == [
        (2, "DRAFT", False, 1), (1, "PUBLISHED", True, 4)]  # fmt: skip
    assert after["scoreModel"]["publishedVersion"] == 1
    api.data(PUBLISH, id=model["id"])
    other = create(api, name="other_leads")["scoreModel"]
    refused = api.data(PUBLISH, id=other["id"])["publishScoreModel"]
    assert refused["userErrors"] == [{"code": "MODEL_CONFLICT", "field": ["id"]}]
    gone = api.data(UNPUBLISH, id=model["id"])["unpublishScoreModel"]["scoreModel"]
    assert gone == {"state": "UNPUBLISHED", "publishedVersion": None}
    assert api.data(RUN, id=model["id"])["runScoreModel"]["userErrors"] == [
        {"code": "NOT_PUBLISHED"}
    ]


def _published(api: Api, empty_graph: neo4j.Driver) -> tuple[str, Seeded]:
    seeded = seed_customers(empty_graph)
    model_id: str = create(api)["scoreModel"]["id"]
    api.data(PUBLISH, id=model_id)
    return model_id, seeded


def test_a_run_serves_leads_by_score_with_breakdown_and_history(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    model_id, seeded = _published(api, empty_graph)
    first = api.data(RUN, id=model_id)["runScoreModel"]
    assert first["queued"] is True
    assert first["jobId"] == f"score:{decode_gid(model_id, 'ScoreModel')}:1"
    assert api.data(RUN, id=model_id)["runScoreModel"]["queued"] is False  # already waiting
    drain(settings)
    expected = expected_scores(seeded, now=datetime.now(UTC))  # the run used the real clock
    progress = json.loads(
        asyncio.run(_get(settings, progress_key(decode_gid(model_id, "ScoreModel") or "")))
    )
    assert (progress["phase"], progress["percent"]) == ("DONE", 100)

    keys: list[tuple[float, str]] = []
    after = None
    while True:
        page = api.data(LEADS, m=model_id, first=7, after=after)["leads"]
        keys += [(e["node"]["score"], e["node"]["key"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1]))
    assert {k: s for s, k in keys} == expected
    a_grade = api.data(LEADS, m=model_id, grade="A", first=100)["leads"]["edges"]
    assert a_grade
    assert all(e["node"]["grade"] == "A" and e["node"]["salesReady"] for e in a_grade)
    assert {e["node"]["key"] for e in a_grade} == {k for s, k in keys if s >= 15}
    page = api.data(BREAKDOWNS, m=model_id)["leads"]["edges"]
    assert len(page) == 30
    for edge in page:  # one version read for the page, every breakdown summing to its score
        assert sum(b["points"] for b in edge["node"]["breakdown"]) == edge["node"]["score"]
    top = keys[0][1]
    lead = api.data(LEAD, m=model_id, p=top)["lead"]
    assert sum(b["points"] for b in lead["breakdown"]) == lead["score"]
    assert [b["condition"] for b in lead["breakdown"]] == [
        r["condition"] for r in DEFINITION["rules"]
    ]
    assert lead["history"] == [{"score": lead["score"], "grade": "A", "salesReady": True,
                                "version": 1}]  # fmt: skip
    assert api.data(LEAD, m=model_id, p="nobody")["lead"] is None


def test_sales_read_scores_masked_but_cannot_edit_models_and_viewers_cannot_read(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    asyncio.run(_flush(settings))
    with running(settings) as dev:  # keys live in Neo4j: minted here, used by the secure app
        token = key_for(dev, "ADMIN")
    with running(settings.model_copy(update=SECURE)) as admin_api:
        admin = as_key(admin_api, token)
        model_id, _ = _published(admin, empty_graph)
        admin.data(RUN, id=model_id)
        drain(settings)
        sales = as_key(admin_api, key_for(admin, "SALES"))
        viewer = as_key(admin_api, key_for(admin, "VIEWER"))
        marketer = as_key(admin_api, key_for(admin, "MARKETER"))
        edges = sales.data(LEADS, m=model_id, first=3)["leads"]["edges"]
        assert edges
        assert all(e["node"]["properties"]["email"] == "***" for e in edges)
        shown = admin.data(LEADS, m=model_id, first=3)["leads"]["edges"]
        assert shown[0]["node"]["properties"]["email"].endswith("@example.com")
        for who, query, variables in (
            (sales, CREATE, {"input": {"name": "x", "definition": DEFINITION}}),
            (sales, PUBLISH, {"id": model_id}),
            (sales, RUN, {"id": model_id}),
            (viewer, LEADS, {"m": model_id}),
            (viewer, LEAD, {"m": model_id, "p": "c001"}),
        ):
            body = who.gql(query, **variables)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], query
        made = marketer.data(CREATE, input={"name": "mkt", "definition": DEFINITION})
        assert made["createScoreModel"]["userErrors"] == []


def test_scores_are_segment_attributes_and_rules_reading_segments_are_dependents(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    model_id, _ = _published(api, empty_graph)
    api.data(RUN, id=model_id)
    drain(settings)
    compiled = api.data(
        "query($t: String!) { compileSegment(definition: {text: $t}) { valid } }",
        t='segment Customer where leadScore >= 15 and leadGrade = "A"',
    )
    assert compiled["compileSegment"]["valid"] is True
    hot = create_ok(api, name="hot", definition={
        "text": 'segment Customer where leadScore >= 15 and leadGrade = "A"'})  # fmt: skip
    reading = {**DEFINITION, "rules": [{"condition": "in segment hot", "points": 5}]}
    other = create(api, reading, name="reads_hot")
    assert other["userErrors"] == []
    dependents = api.data(
        "query($id: ID!) { segment(id: $id) { dependents { kind name } } }", id=hot["id"]
    )["segment"]["dependents"]
    assert dependents == [{"kind": "SCORE_MODEL", "name": "reads_hot"}]
