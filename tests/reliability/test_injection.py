"""Injection: hostile payloads in every value and identifier position of the segment language
and in every string input of the GraphQL API. Values travel only as parameters (the payload,
marked, never appears in any Cypher text); identifiers are refused with a code; and the
customer graph is unchanged (labels, relationship types, counts and a hash of every property).

Cypher texts are read from the real driver's `run` calls (a pass-through spy, not a mock)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import neo4j
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)
from neo4j._async.work.session import AsyncSession
from neo4j._async.work.transaction import AsyncTransactionBase

import grammar
from grammar.errors import SegmentError
from server.api.schema import build_schema
from server.settings import Settings
from tests.api.conftest import running
from tests.grammar.random_data import Pools, load, random_dataset, random_memberships
from tests.grammar.random_segments import quote as string
from tests.grammar.schemas import DEFAULT, NOW
from tests.grammar.test_differential import SCENARIOS
from tests.reliability.figures import record, scale
from tests.reliability.payloads import payloads
from tests.reliability.test_authorization import literal

pytestmark = pytest.mark.services

TEST = "Injection"
MARK = "⟦INJ⟧"  # wraps a payload: never part of any Cypher the engine writes
DANGER = ("DETACH", "DELETE", "CALL ", "LOAD CSV", "MERGE (x:Hack", "\x00", "ＤＥＴＡＣＨ")


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


VALUE_POSITIONS: dict[str, Callable[[str], str]] = {
    "comparison": lambda v: f"segment Customer where city = {string(v)}",
    "list": lambda v: f'segment Customer where city in ({string(v)}, "Oslo")',
    "not in list": lambda v: f"segment Customer where city not in ({string(v)})",
    "contains": lambda v: f"segment Customer where city contains {string(v)} case sensitive",
    "starts/ends": lambda v: (
        f"segment Customer where city starts with {string(v)} or city ends with {string(v)}"
    ),
    "between": lambda v: f'segment Customer where city between {string(v)} and "z"',
    "regex": lambda v: f"segment Customer where city matches {string(v)}",
    "timezone": lambda v: f'segment Customer timezone {string(v)} where city = "Oslo"',
    "in a block": lambda v: f"segment Customer where any Order (channel = {string(v)})",
    "aggregate": lambda v: f"segment Customer where min Order.channel > {string(v)}",
    "segment name": lambda v: f"segment Customer where in segment {quoted(v)}",
}
IDENT_POSITIONS: dict[str, Callable[[str], str]] = {
    "audience": lambda p: f'segment {quoted(p)} where city = "Oslo"',
    "attribute": lambda p: f'segment Customer where {quoted(p)} = "Oslo"',
    "related entity": lambda p: f"segment Customer where any {quoted(p)}",
    "relationship (via)": lambda p: f"segment Customer where any Order via {quoted(p)}",
    "related attribute": lambda p: f"segment Customer where max Order.{quoted(p)} > 1",
    "relationship attribute": lambda p: f"segment Customer where any Order ({quoted(p)}.x = 1)",
    "unquoted": lambda p: f"segment Customer where {p} = 1",
}


def fingerprint(driver: neo4j.Driver) -> str:
    """Labels, relationship types, their counts and a hash of every property of the customer
    graph (engine nodes, whose labels start with `_`, are left out: the API writes them)."""
    nodes = driver.execute_query(
        "MATCH (n) WHERE none(l IN labels(n) WHERE l STARTS WITH '_') "
        "RETURN labels(n) AS l, properties(n) AS p"
    ).records
    rels = driver.execute_query(
        "MATCH (a)-[r]->(b) WHERE NOT type(r) STARTS WITH '_' "
        "RETURN type(r) AS t, properties(r) AS p, elementId(a) AS a, elementId(b) AS b"
    ).records
    rows = sorted(json.dumps([sorted(r["l"]), r["p"]], sort_keys=True, default=str) for r in nodes)
    rows += sorted(json.dumps([r["t"], r["p"]], sort_keys=True, default=str) for r in rels)
    return f"{len(nodes)} nodes, {len(rels)} rels, " + hashlib.sha256(
        "\n".join(rows).encode()).hexdigest()[:16]  # fmt: skip


@pytest.fixture
def seeded(empty_graph: neo4j.Driver) -> neo4j.Driver:
    scenario = SCENARIOS[1]  # the default schema
    data = random_dataset(scenario.schema, Pools.of(scenario.clock), 99)
    load(empty_graph, scenario.schema, data, random_memberships(scenario.schema, data, 99))
    return empty_graph


@pytest.fixture
def cypher_log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Cypher text the async driver runs (the API's), passed through unchanged."""
    seen: list[str] = []
    for cls in (AsyncTransactionBase, AsyncSession):
        original = cls.run

        def spy(self: Any, query: Any, *args: Any, _run: Any = original, **kw: Any) -> Any:
            seen.append(str(getattr(query, "text", query)))
            return _run(self, query, *args, **kw)

        monkeypatch.setattr(cls, "run", spy)
    return seen


def test_segment_language_positions(seeded: neo4j.Driver) -> None:
    before = fingerprint(seeded)
    hostile = payloads(scale(300, 5_000), seed=1)
    leaks, accepted_idents, crashes, compiled_n, ran = [], [], [], 0, 0
    for i, p in enumerate(hostile):
        marked = MARK + p + MARK
        for position, build in VALUE_POSITIONS.items():
            try:
                compiled = grammar.compile_segment(build(marked), DEFAULT, now=NOW)
            except SegmentError as exc:
                if not exc.code:
                    crashes.append(f"{position}: no code")
                continue
            except Exception as exc:  # anything but our error is a crash
                crashes.append(f"{position}: {type(exc).__name__}: {exc}"[:300])
                continue
            compiled_n += 1
            f = compiled.forms
            texts = (f.members.text, f.count.text, f.members_in_keys.text, f.clause_counts.text)
            if any(MARK in t or any(d in t for d in DANGER) for t in texts):
                leaks.append(f"{position}: {p[:80]!r}")
            if position == "regex" or i % 25 == 0:  # every regex (Java reads them) and a share
                seeded.execute_query(compiled.cypher, compiled.params)
                ran += 1
        for position, build in IDENT_POSITIONS.items():
            try:
                grammar.compile_segment(build(p), DEFAULT, now=NOW)
                accepted_idents.append(f"{position}: {p[:80]!r}")
            except SegmentError as exc:
                if not exc.code:
                    crashes.append(f"{position}: no code")
            except Exception as exc:
                crashes.append(f"{position}: {type(exc).__name__}: {exc}"[:300])
    after = fingerprint(seeded)
    n_values = len(hostile) * len(VALUE_POSITIONS)
    n_idents = len(hostile) * len(IDENT_POSITIONS)
    record(
        TEST,
        f"language: {len(VALUE_POSITIONS)} value positions ({compiled_n:,} compiled, "
        f"{ran} run on Neo4j)",
        n_values,
        f"{len(leaks)} payloads in Cypher, {len(crashes)} crashes",
        "0 payload text in Cypher",
        not leaks and not crashes,
    )
    record(
        TEST,
        f"language: {len(IDENT_POSITIONS)} identifier positions",
        n_idents,
        f"{len(accepted_idents)} accepted",
        "every one refused with a code",
        not accepted_idents,
    )
    record(TEST, "language: graph fingerprint before/after", 1,
           "unchanged" if before == after else f"{before} -> {after}", "unchanged",
           before == after)  # fmt: skip
    assert not leaks, leaks[:5]
    assert not crashes, crashes[:5]
    assert not accepted_idents, accepted_idents[:5]
    assert before == after


# ---- GraphQL ----

SKIP = {"ingestRecords"}  # writes customer data by design: its own tests cover its input
Path = tuple[str, ...]


def string_paths(kind: Any, path: Path, depth: int = 0) -> Iterator[Path]:
    """Every String/ID/JSON position under an argument type (list items as `[]`)."""
    named = get_named_type(kind)
    if isinstance(named, GraphQLScalarType):
        if named.name in ("String", "ID", "JSON"):
            yield path
    elif isinstance(named, GraphQLInputObjectType) and depth < 4:
        for name, field in named.fields.items():
            yield from string_paths(field.type, (*path, name), depth + 1)


def value_at(kind: Any, path: Path, payload: str) -> Any:
    """A JSON variable value of `kind` with `payload` at `path`, minimal elsewhere."""
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        return [value_at(inner.of_type, path, payload)]
    if not path:
        if isinstance(inner, GraphQLScalarType) and inner.name == "JSON":
            return {"key": payload, payload[:50]: [payload]}
        return payload
    assert isinstance(inner, GraphQLInputObjectType)
    value = {
        n: json.loads(_json_literal(f.type)) for n, f in inner.fields.items()
        if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
    }  # fmt: skip
    value[path[0]] = value_at(inner.fields[path[0]].type, path[1:], payload)
    return value


def _json_literal(kind: Any) -> str:
    """literal() of the authorization test, as JSON (for variables)."""
    text = literal(kind)
    inner = get_named_type(kind)
    if isinstance(inner, GraphQLInputObjectType):
        return json.dumps(_object(inner))
    return text if not text.isidentifier() else json.dumps(text)


def _object(kind: GraphQLInputObjectType) -> dict[str, Any]:
    return {n: json.loads(_json_literal(f.type)) for n, f in kind.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined}  # fmt: skip


def operations(settings: Settings) -> Iterator[tuple[str, str, str, Path, Any, GraphQLField]]:
    """(kind, field, argument, path inside it, argument type, field) for every string position."""
    schema = build_schema(settings)._schema
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            if name in SKIP:
                continue
            for arg_name, arg in field.args.items():
                for path in string_paths(arg.type, ()):
                    yield kind, name, arg_name, path, arg.type, field


def document(kind: str, name: str, field: GraphQLField, target: str) -> str:
    params = [f"${n}: {a.type}" for n, a in field.args.items()
              if n == target or (isinstance(a.type, GraphQLNonNull)
                                 and a.default_value is Undefined)]  # fmt: skip
    args = [f"{n}: ${n}" for n, a in field.args.items()
            if n == target or (isinstance(a.type, GraphQLNonNull)
                               and a.default_value is Undefined)]  # fmt: skip
    named = get_named_type(field.type)
    selection = "" if isinstance(named, GraphQLScalarType) else " { __typename }"
    return f"{kind}({', '.join(params)}) {{ {name}({', '.join(args)}){selection} }}"


def test_graphql_inputs(seeded: neo4j.Driver, settings: Settings, cypher_log: list[str]) -> None:
    before = fingerprint(seeded)
    positions = list(operations(settings))
    per_position = scale(3, 12)
    hostile = payloads(max(per_position * len(positions), 200), seed=2)
    problems: list[str] = []
    n = 0
    with running(settings) as api:
        for index, (kind, name, arg, path, arg_type, field) in enumerate(positions):
            doc = document(kind, name, field, arg)
            for j in range(per_position):
                p = hostile[(index * per_position + j) % len(hostile)]
                marked = MARK + p[:2_000] + MARK
                variables = {
                    a: json.loads(_json_literal(t.type))
                    for a, t in field.args.items()
                    if isinstance(t.type, GraphQLNonNull) and t.default_value is Undefined
                }  # fmt: skip
                variables[arg] = value_at(arg_type, path, marked)
                start = len(cypher_log)
                response = api.client.post("/graphql", json={"query": doc, "variables": variables})
                n += 1
                where = f"{name}.{arg}{''.join('.' + x for x in path)}"
                problems += check_response(response, where, p)
                if any(MARK in q for q in cypher_log[start:]):
                    problems.append(f"{where}: payload in Cypher text")
    assert cypher_log, "the spy saw no Cypher: it is not watching the driver"
    after = fingerprint(seeded)
    record(TEST, f"GraphQL: {len(positions)} string positions of every query and mutation",
           n, f"{len(problems)} problems (5xx, tracebacks, internal errors, payload in Cypher)",
           "0 payload text in Cypher, 0 5xx", not problems)  # fmt: skip
    record(TEST, "GraphQL: graph fingerprint before/after", 1,
           "unchanged" if before == after else f"{before} -> {after}", "unchanged",
           before == after)  # fmt: skip
    assert not problems, problems[:10]
    assert before == after


def check_response(response: Any, where: str, payload: str) -> list[str]:
    found = []
    if response.status_code >= 500:
        found.append(f"{where}: HTTP {response.status_code}")
    text = response.text
    if "Traceback" in text or 'File "' in text:
        found.append(f"{where}: traceback in the response")
    if response.status_code == 200:
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        if "INTERNAL_SERVER_ERROR" in codes or None in codes:
            found.append(f"{where}: {codes} for {payload[:60]!r}")
    return found


Codes = Callable[[dict[str, Any]], list[str]]
IDENTIFIER_INPUTS: dict[str, tuple[str, Codes]] = {
    "compileSegment(audience)": (
        'query($p: String!) { compileSegment(definition: {text: "segment Customer where city '
        "= 'x'\"}, audience: $p) { valid diagnostics { code } } }",
        lambda d: [x["code"] for x in d["compileSegment"]["diagnostics"]],
    ),
    "createSegment(input.audience)": (
        'mutation($p: String!) { createSegment(input: {name: "inj", audience: $p}) '
        "{ userErrors { code } } }",
        lambda d: [x["code"] for x in d["createSegment"]["userErrors"]],
    ),
    "createSegment(input.name)": (
        'mutation($p: String!) { createSegment(input: {name: $p, audience: "Customer"}) '
        "{ userErrors { code } } }",
        lambda d: [x["code"] for x in d["createSegment"]["userErrors"]],
    ),
    "createExport(input.columns)": (
        'mutation($p: String!, $s: ID!) { createExport(input: {name: "inj", segmentIds: [$s], '
        'columns: [$p], destination: {kind: FOLDER_CSV, path: "inj"}}) { userErrors { code } } }',
        lambda d: [x["code"] for x in d["createExport"]["userErrors"]],
    ),
}


def test_graphql_identifier_inputs_are_refused_with_a_code(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    hostile = payloads(scale(60, 600), seed=3)
    accepted, n = [], 0
    with running(settings) as api:
        segment = api.data(
            'mutation { createSegment(input: {name: "base", audience: '
            '"Customer"}) { segment { id } } }'
        )["createSegment"]["segment"]["id"]
        for where, (doc, user_codes) in IDENTIFIER_INPUTS.items():
            for p in hostile:
                n += 1
                body = api.gql(doc, p=p, s=segment)
                codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
                found = codes or (user_codes(body["data"]) if body.get("data") else [])
                if not found or None in found or "INTERNAL_SERVER_ERROR" in found:
                    accepted.append(f"{where}: {p[:60]!r} -> {found}")
    record(TEST, "GraphQL identifier inputs (audience, segment name, export columns)", n,
           f"{len(accepted)} accepted or uncoded", "every one refused with a code",
           not accepted)  # fmt: skip
    assert not accepted, accepted[:5]
