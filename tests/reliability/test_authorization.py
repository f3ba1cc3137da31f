"""Authorization matrix: every role (with and without the PII grant) x every root operation x
every PII attribute, through GraphQL, the query language and exports, against the checked-in
allow table (tests/reliability/allow_table.yaml, the policy written for humans to review).

Operations are called with minimal arguments built from the schema: an allowed call may still
fail on its input (NOT_FOUND, BAD_USER_INPUT, ...) but never with FORBIDDEN; a refused call
fails with FORBIDDEN and nothing else."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
import yaml
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from starlette.websockets import WebSocketDisconnect

from server.api.schema import build_schema
from server.settings import Settings
from tests.api.conftest import Api, as_key, create_ok, key_for, running
from tests.api.test_access import seed_member_with_email
from tests.reliability.figures import record

pytestmark = pytest.mark.services

TEST = "Authorization matrix"
TABLE = yaml.safe_load((Path(__file__).parent / "allow_table.yaml").read_text(encoding="utf-8"))
PRINCIPALS = [(r, pii) for r in TABLE["roles"] for pii in (False, True) if r != "ADMIN" or pii]
SCALARS = {"ID": '"x"', "String": '"x"', "Int": "1", "Float": "1.5", "Boolean": "false",
           "DateTime": '"2026-01-01T00:00:00Z"', "JSON": "{}"}  # fmt: skip


def name_of(role: str, pii: bool) -> str:
    return f"{role}+pii" if pii and role != "ADMIN" else role


def literal(kind: Any) -> str:
    """A value of `kind` written inline: required input fields only."""
    if isinstance(kind, GraphQLNonNull):
        return literal(kind.of_type)
    if isinstance(kind, GraphQLList):
        return f"[{literal(kind.of_type)}]"
    if isinstance(kind, GraphQLEnumType):
        return str(next(iter(kind.values)))
    if isinstance(kind, GraphQLInputObjectType):
        fields = [f"{n}: {literal(f.type)}" for n, f in kind.fields.items()
                  if isinstance(f.type, GraphQLNonNull)
                  and f.default_value is Undefined]  # fmt: skip
        return "{" + ", ".join(fields) + "}"
    assert isinstance(kind, GraphQLScalarType)
    return SCALARS[kind.name]


def call(name: str, field: GraphQLField) -> str:
    args = [f"{n}: {literal(a.type)}" for n, a in field.args.items()
            if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined]  # fmt: skip
    arguments = f"({', '.join(args)})" if args else ""
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    return f"{name}{arguments}{selection}"


def documents(settings: Settings) -> dict[tuple[str, str], str]:
    schema = build_schema(settings)._schema
    found = {}
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type),
                       ("subscription", schema.subscription_type)):  # fmt: skip
        assert root is not None
        for name, field in root.fields.items():
            found[(kind, name)] = f"{kind} {{ {call(name, field)} }}"
    return found


def codes(body: dict[str, Any]) -> set[str]:
    return {e.get("extensions", {}).get("code", "") for e in body.get("errors") or []}


@pytest.fixture
def secure(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    with running(settings.model_copy(update={"auth_required": True})) as client:
        yield client


@pytest.fixture
def clients(secure: Api, settings: Settings) -> dict[str, Api]:
    with running(settings) as dev:
        admin_token = key_for(dev, "ADMIN")
    admin = as_key(secure, admin_token)
    found = {"ADMIN": admin}
    for role, pii in PRINCIPALS:
        if role != "ADMIN":
            found[name_of(role, pii)] = as_key(secure, key_for(admin, role, pii=pii))
    return found


def subscribe_refused(api: Api, document: str) -> bool | None:
    """True: FORBIDDEN; False: accepted; None: neither (an error with another code)."""
    with api.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init",
                      "payload": {"authorization": api.headers["authorization"]}})  # fmt: skip
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"type": "subscribe", "id": "1", "payload": {"query": document}})
        ws.send_json({"type": "ping"})
        try:
            message = ws.receive_json()
        except WebSocketDisconnect:
            return None
        if message["type"] == "pong":
            return False  # still subscribed: nothing refused it
        errors = message.get("payload")
        errors = errors if isinstance(errors, list) else (errors or {}).get("errors", [])
        found = {e.get("extensions", {}).get("code") for e in errors}
        return found == {"FORBIDDEN"} if found else None


def test_every_operation_for_every_role(clients: dict[str, Api], settings: Settings) -> None:
    docs = documents(settings)
    allowed = {(kind, op): set(roles) for kind, ops in TABLE["operations"].items()
               for op, roles in ops.items()}  # fmt: skip
    assert set(docs) == set(allowed), "the allow table must list every root field"
    mismatches = []
    for (kind, op), document in sorted(docs.items()):
        for role, pii in PRINCIPALS:
            api = clients[name_of(role, pii)]
            if kind == "subscription":
                refused = subscribe_refused(api, document)
            else:
                found = codes(api.gql(document))
                invalid = found & {"GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}
                refused = (
                    None if invalid else found == {"FORBIDDEN"} if "FORBIDDEN" in found else False
                )
            if refused is None or refused == (role in allowed[(kind, op)]):
                mismatches.append(f"{name_of(role, pii)} {kind} {op}: refused={refused}")
    n = len(docs) * len(PRINCIPALS)
    record(TEST, "GraphQL: every role x every root operation", n,
           f"{len(mismatches)} mismatches", "0 mismatches", not mismatches)  # fmt: skip
    assert not mismatches, mismatches


def pii_attributes() -> list[tuple[str, str]]:
    return [(e, a) for e, names in TABLE["pii"]["attributes"].items() for a in names]


COMPILE = """query($text: String!) { compileSegment(definition: {text: $text}) {
  valid diagnostics { code } } }"""
FILTERS = {"string": '= "x"', "date": "before 2000-01-01"}


def test_pii_in_the_query_language(clients: dict[str, Api], settings: Settings) -> None:
    """A condition on a PII attribute (directly, or inside a block about related records)
    compiles only for callers who see PII; for the others it is NOT_PERMITTED."""
    from server.app import load_graph_schema

    schema = load_graph_schema(settings)
    unmasked = set(TABLE["pii"]["unmasked"])
    mismatches, n = [], 0
    for entity_name, attr_name in pii_attributes():
        attr = schema.require_entity(entity_name).attribute(attr_name)
        assert attr is not None
        assert attr.pii
        condition = f"{attr_name} {FILTERS.get(attr.type.value, FILTERS['string'])}"
        texts = []
        entity = schema.require_entity(entity_name)
        if entity.profile:
            texts.append(f"segment {entity_name} where {condition}")
        for profile in schema.profiles:
            if profile.name != entity_name and schema.paths(profile.name, entity_name, max_hops=1):
                texts.append(f"segment {profile.name} where any {entity_name} ({condition})")
        assert texts, (entity_name, attr_name)
        for text in texts:
            for role, pii in PRINCIPALS:
                who = name_of(role, pii)
                result = clients[who].data(COMPILE, text=text)["compileSegment"]
                n += 1
                sees = who in unmasked
                ok = result["valid"] if sees else [d["code"] for d in result["diagnostics"]] == [
                    "NOT_PERMITTED"]  # fmt: skip
                if not ok:
                    mismatches.append(f"{who}: {text} -> {result}")
    record(TEST, "query language: every role x every PII attribute (direct and in blocks)", n,
           f"{len(mismatches)} mismatches", "0 mismatches", not mismatches)  # fmt: skip
    assert not mismatches, mismatches[:5]


MEMBERS = """query($id: ID!) { segment(id: $id) {
  members { edges { node { key properties } } } } }"""
CREATE_EXPORT = """mutation($input: CreateExportInput!) { createExport(input: $input) {
  export { id } userErrors { code field } } }"""
# no leading `+` in the phone: CSV cells escape formula starters (test_export_safety covers it)
VALUES = {"email": "ada@example.com", "phone": "0047 1234 5678", "birthDate": "1990-05-17"}


def test_pii_in_member_pages_csv_and_exports(
    clients: dict[str, Api], empty_graph: neo4j.Driver
) -> None:
    """Customer PII values: unmasked in member pages and members.csv only for the table's
    `unmasked` callers; an export listing a PII column is NOT_PERMITTED for the others."""
    admin = clients["ADMIN"]
    segment = create_ok(admin, name="everyone")
    seed_member_with_email(empty_graph, segment["id"])
    empty_graph.execute_query(
        "MATCH (p:Customer {customerId: 'c1'}) SET p.phone = $phone, p.birthDate = date($birth)",
        phone=VALUES["phone"],
        birth=VALUES["birthDate"],
    )
    unmasked = set(TABLE["pii"]["unmasked"])
    pii = [a for e, a in pii_attributes() if e == "Customer"]
    mismatches, n = [], 0
    for role, has_pii in PRINCIPALS:
        who = name_of(role, has_pii)
        api = clients[who]
        sees = who in unmasked
        body = api.gql(MEMBERS, id=segment["id"])
        if "FORBIDDEN" in codes(body):
            continue  # may not read members at all: covered by the operations matrix
        props = body["data"]["segment"]["members"]["edges"][0]["node"]["properties"]
        url = f"/segments/{segment['id']}/members.csv?columns=name,{','.join(pii)}"
        rows = list(csv.reader(io.StringIO(api.client.get(url, headers=api.headers).text)))
        cells = dict(zip(rows[0], rows[1], strict=True))
        for attr in pii:
            n += 2
            if (str(props[attr]) == VALUES[attr]) != sees:
                mismatches.append(f"{who}: member page {attr}={props[attr]}")
            if (cells[attr] == VALUES[attr]) != sees:
                mismatches.append(f"{who}: members.csv {attr}={cells[attr]}")
    for role, has_pii in PRINCIPALS:
        who = name_of(role, has_pii)
        for attr in pii:
            n += 1
            result = clients[who].gql(CREATE_EXPORT, input={
                "name": f"x-{who}-{attr}", "segmentIds": [segment["id"]], "columns": [attr],
                "destination": {"kind": "FOLDER_CSV", "path": f"authz-{who}-{attr}"},
            })  # fmt: skip
            found = codes(result)
            if "FORBIDDEN" in found:
                if role in TABLE["operations"]["mutation"]["createExport"]:
                    mismatches.append(f"{who}: createExport FORBIDDEN")
                continue
            errors = [e["code"] for e in result["data"]["createExport"]["userErrors"]]
            if ("NOT_PERMITTED" in errors) == (who in unmasked):
                mismatches.append(f"{who}: export of {attr}: {errors}")
    record(TEST, "member pages, members.csv and exports: every role x every Customer PII "
           "attribute", n, f"{len(mismatches)} mismatches", "0 mismatches",
           not mismatches)  # fmt: skip
    assert not mismatches, mismatches
