"""GraphQL fuzz: schemathesis in GraphQL mode generates documents for every query and mutation
of the committed SDL; each runs against the real app (TestClient, lifespan on, real Neo4j and
Redis) once per role. Checked: no 5xx and no masked or uncoded error; schemathesis' response
checks (a JSON object; no non-null field resolved to null); no traceback or Cypher text in a
response; and no PII value in the response of a caller without the PII grant."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import graphql
import neo4j
import pytest
import schemathesis.graphql
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql.checks import (
    GraphQLClientError,
    GraphQLSchemaViolation,
    GraphQLServerError,
    UnexpectedGraphQLResponse,
)
from schemathesis.specs.graphql.validation import validate_graphql_response

from server.api.schema import SDL_PATH
from server.settings import Settings
from tests.api.conftest import Api, as_key, create_ok, key_for, running
from tests.reliability.figures import record, scale

pytestmark = pytest.mark.services

TEST = "GraphQL fuzz"
ROLES = ("VIEWER", "SALES", "MARKETER", "ADMIN")
PII_VALUES = ("ada.pii@example.com", "+47 5550 1234")
LEAKS = ("Traceback", 'File "', "MATCH (", "RETURN ", "neo4j.exceptions", "Neo.ClientError")

schemathesis.graphql.scalar(
    "DateTime", st.sampled_from(["2026-01-01T00:00:00+00:00", "1999-12-31T23:59:59Z", "x"]).map(
        lambda s: graphql.StringValueNode(value=s))
)  # fmt: skip
schemathesis.graphql.scalar(
    "JSON", st.sampled_from(["{}", "{a: 1, b: [true]}", "[1, null]", '"s"']).map(
        lambda s: graphql.parse_value(s))
)  # fmt: skip


@pytest.fixture
def seeded_api(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[dict[str, Api]]:
    """The app with keys required, a segment with one member holding PII, a key per role."""
    with running(settings) as dev:
        admin_token = key_for(dev, "ADMIN")
        segment = create_ok(dev, name="fuzzed")
    empty_graph.execute_query(
        "MATCH (s:_Segment {name: 'fuzzed'}) SET s.activeVersion = 1, s.versionSeq = 1 "
        "CREATE (p:Customer {customerId: 'c1', name: 'Ada', email: $email, phone: $phone}) "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: 'c1', since: 1}]->(p)",
        email=PII_VALUES[0], phone=PII_VALUES[1],
    )  # fmt: skip
    assert segment["id"]
    with running(settings.model_copy(update={"auth_required": True})) as secure:
        admin = as_key(secure, admin_token)
        yield {r: admin if r == "ADMIN" else as_key(secure, key_for(admin, r)) for r in ROLES}


def problems_of(case: Any, response: Any, role: str) -> list[str]:
    found = []
    label = case.operation.label
    if response.status_code >= 500:
        found.append(f"{role} {label}: HTTP {response.status_code}")
    text = response.text
    found += [f"{role} {label}: {leak!r} in the response" for leak in LEAKS if leak in text]
    if role != "ADMIN":
        found += [f"{role} {label}: PII value in the response" for v in PII_VALUES if v in text]
    try:
        body = response.json()
    except json.JSONDecodeError:
        return [*found, f"{role} {label}: not JSON ({response.status_code})"]
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    if "INTERNAL_SERVER_ERROR" in codes or None in codes:
        found.append(f"{role} {label}: {codes} for {case.body!r}"[:600])
    try:
        validate_graphql_response(case, body)
    except (UnexpectedGraphQLResponse, GraphQLSchemaViolation) as exc:
        found.append(f"{role} {label}: schemathesis: {exc}"[:600])
    except (GraphQLClientError, GraphQLServerError):
        pass  # errors with our codes (BAD_USER_INPUT, FORBIDDEN, ...) are answers, checked above
    return found


def test_schemathesis_graphql_per_role(seeded_api: dict[str, Api]) -> None:
    schema = schemathesis.graphql.from_file(SDL_PATH.read_text(encoding="utf-8"))
    operations: list[Any] = [o.ok() for o in schema.get_all_operations()]  # type: ignore[union-attr]
    per_operation = math.ceil(scale(150, 1_000) / len(operations))
    problems: list[str] = []
    counts = dict.fromkeys(ROLES, 0)
    for operation in operations:

        @settings(max_examples=per_operation, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(operation.as_strategy())
        def run(case: Any) -> None:
            for role, api in seeded_api.items():
                response = api.client.post("/graphql", json={"query": case.body},
                                           headers=api.headers)  # fmt: skip
                counts[role] += 1
                problems.extend(problems_of(case, response, role))

        run()
    for role, n in counts.items():
        mine = [p for p in problems if p.startswith(role + " ")]
        record(TEST, f"schemathesis GraphQL mode, {len(operations)} operations, as {role}", n,
               f"{len(mine)} problems (5xx, internal errors, schema checks, leaks)",
               "0 5xx, 0 schema violations, 0 leaks", not mine)  # fmt: skip
    assert not problems, sorted(set(problems))[:10]
