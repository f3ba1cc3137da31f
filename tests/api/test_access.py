"""API keys, roles and PII: through the real app over HTTP on the real Neo4j.

The roles matrix below is the specification (docs/api.md has the same table); the test runs
one representative operation per permission for every role.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import neo4j
import pytest

from server.access import ROLE_PERMISSIONS, Permission, Role
from server.api.permissions import required_permission
from server.api.schema import build_schema
from server.settings import Settings
from tests.api.conftest import Api, as_key, create_ok, key_for, running
from tests.api.test_members import node_id

SECURE = {"auth_required": True}

LIST = "{ segments { totalCount } }"
MEMBERS = "query($id: ID!) { segment(id: $id) { members { edges { node { key properties } } } } }"
CREATE = """
mutation($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    segment { name draft definition { valid diagnostics { code message } } }
    userErrors { code }
  }
}
"""
COMPILE = """
query($text: String!) {
  compileSegment(definition: {text: $text}) {
    valid diagnostics { code span { line column } }
  }
}
"""
KEYS = "{ apiKeys { id name role revoked } }"
VIEWER = "{ viewer { actor role reads_pii: readsPii permissions } }"

# What each role may do, written out (not derived from ROLE_PERMISSIONS: this is the spec).
MATRIX: dict[Role, set[str]] = {
    Role.VIEWER: {"list"},
    Role.SALES: {"list", "members"},
    Role.MARKETER: {"list", "members", "create"},
    Role.ADMIN: {"list", "members", "create", "keys"},
}


@pytest.fixture
def secure(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    """The app with keys required, called without a key."""
    with running(settings.model_copy(update=SECURE)) as client:
        yield client


def admin_of(anonymous: Api, settings: Settings) -> Api:
    """An admin key minted by a local-development app (keys are in Neo4j, shared by both)."""
    with running(settings) as dev:
        token = key_for(dev, "ADMIN")
    return as_key(anonymous, token)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def seed_member_with_email(driver: neo4j.Driver, segment_gid: str) -> None:
    driver.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1 "
        "CREATE (p:Customer {customerId: 'c1', name: 'Ada', email: 'ada@example.com',"
        "  phone: NULL, city: 'Oslo'}) "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: 'c1', since: 1}]->(p)",
        id=node_id(segment_gid),
    )


def test_missing_malformed_unknown_and_revoked_keys_get_401(
    secure: Api, settings: Settings
) -> None:
    response = secure.post(LIST)
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert response.headers["www-authenticate"] == "Bearer"
    for bad in ("nonsense", "seg_nope_nope", "seg__x"):
        assert as_key(secure, bad).post(LIST).status_code == 401
    admin = admin_of(secure, settings)
    token = key_for(admin, "VIEWER")
    viewer = as_key(secure, token)
    assert viewer.data(LIST)["segments"]["totalCount"] == 0
    key_id = token.split("_")[1]
    wrong_secret = as_key(secure, f"seg_{key_id}_{'x' * 43}")
    assert wrong_secret.post(LIST).status_code == 401
    revoked = admin.data('mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revoked } } }',
                         id=key_id)  # fmt: skip
    assert revoked["revokeApiKey"]["apiKey"]["revoked"] is True
    assert viewer.post(LIST).status_code == 401
    assert secure.client.get("/healthz").status_code == 200  # probes need no key


def test_roles_matrix(secure: Api, settings: Settings, empty_graph: neo4j.Driver) -> None:
    admin = admin_of(secure, settings)
    seg = admin.data(
        CREATE,
        input={
            "name": "oslo",
            "audience": "Customer",
            "definition": {"text": "segment Customer where city = 'Oslo'"},
        },
    )
    segment_gid = admin.data('{ segment(name: "oslo") { id } }')["segment"]["id"]
    assert seg["createSegment"]["userErrors"] == []
    for role, allowed in MATRIX.items():
        client = as_key(secure, key_for(admin, role.value))
        attempts = {
            "list": client.gql(LIST),
            "members": client.gql(MEMBERS, id=segment_gid),
            "create": client.gql(CREATE, input={
                "name": f"by_{role.value.lower()}", "audience": "Customer",
                "definition": {"text": "segment Customer where city = 'Oslo'"}}),
            "keys": client.gql(KEYS),
        }  # fmt: skip
        for action, body in attempts.items():
            if action in allowed:
                assert "errors" not in body, (role, action, body)
            else:
                assert codes(body) == ["FORBIDDEN"], (role, action, body)
                assert body["errors"][0]["path"][0] in {"segments", "segment", "createSegment",
                                                        "apiKeys"}  # fmt: skip
        me = client.data(VIEWER)["viewer"]
        assert me["role"] == role.value
        assert set(me["permissions"]) == {p.value for p in ROLE_PERMISSIONS[role]}


def test_pii_is_masked_in_members_and_csv_without_the_grant(
    secure: Api, settings: Settings, empty_graph: neo4j.Driver
) -> None:
    admin = admin_of(secure, settings)
    segment = create_ok(admin, name="all")
    seed_member_with_email(empty_graph, segment["id"])
    sales = as_key(secure, key_for(admin, "SALES"))
    trusted_sales = as_key(secure, key_for(admin, "SALES", pii=True))

    def properties(client: Api) -> dict[str, Any]:
        edges = client.data(MEMBERS, id=segment["id"])["segment"]["members"]["edges"]
        found: dict[str, Any] = edges[0]["node"]["properties"]
        return found

    masked = properties(sales)
    assert masked["email"] == "***"
    assert masked["name"] == "Ada"
    assert masked["phone"] is None
    assert masked["birthDate"] is None  # missing stays missing
    assert properties(trusted_sales)["email"] == "ada@example.com"
    assert properties(admin)["email"] == "ada@example.com"

    def csv_rows(client: Api) -> list[list[str]]:
        url = f"/segments/{segment['id']}/members.csv?columns=name,email"
        response = client.client.get(url, headers=client.headers)
        assert response.status_code == 200, response.text
        return list(csv.reader(io.StringIO(response.text)))

    assert csv_rows(sales)[1] == ["c1", "Ada", "***"]
    assert csv_rows(trusted_sales)[1] == ["c1", "Ada", "ada@example.com"]
    typo = sales.client.get(f"/segments/{segment['id']}/members.csv?columns=name,emial",
                            headers=sales.headers)  # fmt: skip
    assert (typo.status_code, typo.json()) == (400, {
        "error": "UNKNOWN_COLUMN", "parameter": "columns",
        "message": "'emial' is not an attribute of Customer. Did you mean `email`?",
    })  # fmt: skip
    viewer = as_key(secure, key_for(admin, "VIEWER"))
    denied = secure.client.get(f"/segments/{segment['id']}/members.csv", headers=viewer.headers)
    assert denied.status_code == 403
    assert secure.client.get(f"/segments/{segment['id']}/members.csv").status_code == 401


def test_pii_filters_are_refused_in_query_text_without_the_grant(
    secure: Api, settings: Settings
) -> None:
    admin = admin_of(secure, settings)
    marketer = as_key(secure, key_for(admin, "MARKETER"))
    text = "segment Customer\nwhere city = 'Oslo' and email ends with '@example.com'"
    check = marketer.data(COMPILE, text=text)["compileSegment"]
    assert not check["valid"]
    assert check["diagnostics"] == [{"code": "NOT_PERMITTED", "span": {"line": 2, "column": 25}}]
    saved = marketer.data(
        CREATE, input={"name": "gmail", "audience": "Customer", "definition": {"text": text}}
    )["createSegment"]
    assert saved["segment"]["draft"] is True
    assert [d["code"] for d in saved["segment"]["definition"]["diagnostics"]] == ["NOT_PERMITTED"]
    assert admin.data(COMPILE, text=text)["compileSegment"]["valid"] is True
    trusted = as_key(secure, key_for(admin, "MARKETER", pii=True))
    assert trusted.data(COMPILE, text=text)["compileSegment"]["valid"] is True


def test_every_root_field_requires_a_permission(settings: Settings) -> None:
    schema = build_schema(settings)
    for root in (schema.get_type_by_name("Query"), schema.get_type_by_name("Mutation")):
        assert root is not None
        for f in root.fields:  # type: ignore[union-attr]
            assert required_permission(f.permission_classes) is not None, f.python_name
    mutation = schema.get_type_by_name("Mutation")
    needs = {f.python_name: required_permission(f.permission_classes)
             for f in mutation.fields}  # type: ignore[union-attr]  # fmt: skip
    assert needs["create_api_key"] is Permission.MANAGE_KEYS
    assert needs["create_segment"] is Permission.MANAGE_SEGMENTS
