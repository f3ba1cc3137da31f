"""Abusive documents are refused with a code; unexpected failures are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import neo4j
import pytest
from graphql import GraphQLError
from neo4j.exceptions import ServiceUnavailable

from server.api.errors import ApiError, ErrorCode, ErrorPolicy, log_errors
from server.settings import Settings
from tests.api.conftest import Api, as_key, key_for, running


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body["errors"]]


@pytest.fixture
def strict(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    limits = {"graphql_max_depth": 3, "graphql_max_aliases": 3, "graphql_max_tokens": 200}
    with running(settings.model_copy(update=limits)) as client:
        yield client


def test_depth_limit(strict: Api) -> None:
    deep = "{ segments { edges { node { definition { version } } } } }"
    assert error_codes(strict.gql(deep)) == ["QUERY_TOO_DEEP"]
    hidden = (
        "{ segments { ...E } } "
        "fragment E on SegmentConnection { edges { node { definition { version } } } }"
    )
    assert error_codes(strict.gql(hidden)) == ["QUERY_TOO_DEEP"]
    assert "errors" not in strict.gql("{ segments { edges { node { name } } } }")


def test_alias_limit_counts_fragments(strict: Api) -> None:
    plain = "{ a: segments { totalCount } b: segments { totalCount } c: segments { totalCount } }"
    assert "errors" not in strict.gql(plain)
    four = "{ a: segments { totalCount } b: segments { totalCount } ...F }"
    fragment = " fragment F on Query { c: segments { totalCount } d: segments { totalCount } }"
    assert error_codes(strict.gql(four + fragment)) == ["TOO_MANY_ALIASES"]


def test_token_limit(strict: Api) -> None:
    long = "{ " + " ".join("segments { totalCount }" for _ in range(60)) + " }"
    assert error_codes(strict.gql(long)) == ["TOO_MANY_TOKENS"]


def test_syntax_and_validation_errors_have_codes(api: Api) -> None:
    assert error_codes(api.gql("{ segments { ")) == ["GRAPHQL_PARSE_FAILED"]
    assert error_codes(api.gql("{ segments { nope } }")) == ["GRAPHQL_VALIDATION_FAILED"]


def test_request_size_limit(empty_graph: neo4j.Driver, settings: Settings) -> None:
    with running(settings.model_copy(update={"max_request_bytes": 1000})) as small:
        query = "{ segments { totalCount } }" + " " * 2000
        response = small.client.post("/graphql", json={"query": query})
        assert response.status_code == 413


def test_an_unreachable_database_is_a_typed_error_without_internals(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"neo4j_uri": "bolt://127.0.0.1:1", "api_neo4j_retry_s": 0.2}
    )
    with running(unreachable) as broken:
        body = broken.gql("{ segments { totalCount } }")
        assert error_codes(body) == ["UNAVAILABLE"]
        assert "127.0.0.1" not in body["errors"][0]["message"]


def test_unexpected_errors_are_masked() -> None:
    policy = ErrorPolicy(max_tokens=100)
    bug = GraphQLError("boom", original_error=RuntimeError("secret at 127.0.0.1"))
    outage = GraphQLError("down", original_error=ServiceUnavailable("at 127.0.0.1:7687"))
    masked, typed = policy._process_errors([bug, outage])
    assert (masked.extensions, typed.extensions) == (
        {"code": "INTERNAL_SERVER_ERROR"}, {"code": "UNAVAILABLE"},
    )  # fmt: skip
    assert "127.0.0.1" not in masked.message + typed.message


def test_graphiql_and_introspection_follow_production_mode(
    empty_graph: neo4j.Driver, settings: Settings
) -> None:
    introspect = "{ __schema { queryType { name } } }"
    with running(settings) as dev:
        assert (
            "text/html"
            in dev.client.get("/graphql", headers={"accept": "text/html"}).headers["content-type"]
        )
        assert dev.data(introspect)["__schema"]["queryType"]["name"] == "Query"
        token = key_for(dev, "ADMIN")
    with running(settings.model_copy(update={"production": True})) as anonymous:
        prod = as_key(anonymous, token)
        page = prod.client.get("/graphql", headers={"accept": "text/html", **prod.headers})
        assert page.status_code == 404
        assert "text/html" not in page.headers.get("content-type", "")
        assert set(error_codes(prod.gql(introspect))) == {"GRAPHQL_VALIDATION_FAILED"}


def test_client_mistakes_log_one_line_and_bugs_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = GraphQLError("first must not be negative", extensions={"code": "BAD_USER_INPUT"},
                           original_error=ApiError(ErrorCode.BAD_USER_INPUT, "x"))  # fmt: skip
    try:
        raise RuntimeError("secret at 127.0.0.1")
    except RuntimeError as exc:
        bug = GraphQLError("boom", original_error=exc)
    outage = GraphQLError("down", original_error=ServiceUnavailable("at 127.0.0.1:7687"))
    with caplog.at_level(logging.INFO, logger="segments.api"):
        log_errors([refused, bug, outage])
    mistake, failure, unavailable = caplog.records
    assert (unavailable.levelno, unavailable.exc_info) == (logging.WARNING, None)
    assert (mistake.levelno, mistake.exc_info) == (logging.INFO, None)
    assert mistake.code == "BAD_USER_INPUT"  # type: ignore[attr-defined]
    assert failure.levelno == logging.ERROR
    assert failure.exc_info is not None
    assert failure.exc_info[1] is bug.original_error


def test_a_literal_a_scalar_refuses_is_located(api: Api) -> None:
    query = (
        '{\n  compileSegment(definition: {text: "segment Customer"},\n'
        '    asOf: "yesterday") { valid } }'
    )
    body = api.gql(query)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    error = body["errors"][0]
    assert error["locations"] == [{"line": 3, "column": 11}]
    assert error["message"].startswith('Invalid value "yesterday": ')
