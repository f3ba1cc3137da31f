"""The real app over HTTP (starlette TestClient runs the lifespan) on the real Neo4j and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import neo4j
import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings

Json = dict[str, Any]


class Api:
    """A GraphQL client over the app; `gql` returns the whole response body."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def post(self, query: str, **variables: Any) -> Any:
        """The raw HTTP response (for status codes)."""
        body = {"query": query, "variables": variables}
        return self.client.post("/graphql", json=body, headers=self.headers)

    def gql(self, query: str, **variables: Any) -> Json:
        response = self.post(query, **variables)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    def data(self, query: str, **variables: Any) -> Json:
        """The `data` of a response that must have no errors."""
        body = self.gql(query, **variables)
        assert "errors" not in body, body["errors"]
        data: Json = body["data"]
        return data


@contextmanager
def running(settings: Settings) -> Iterator[Api]:
    """The app with its lifespan started (driver, pool, constraints) for these settings."""
    with TestClient(create_app(settings)) as client:
        yield Api(client)


@pytest.fixture
def api(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    with running(settings) as client:
        yield client


CREATE_KEY = """
mutation Key($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { token apiKey { id role pii } userErrors { code field } }
}
"""


def key_for(api: Api, role: str, *, pii: bool = False) -> str:
    """A new API key's token (created by `api`, which must be allowed to)."""
    payload = api.data(CREATE_KEY, input={"name": f"test {role}", "role": role, "pii": pii})
    token: str = payload["createApiKey"]["token"]
    return token


def as_key(api: Api, token: str) -> Api:
    """The same app, called with `token` as the bearer key."""
    return Api(api.client, {"authorization": f"Bearer {token}"})


OSLO = "segment Customer where city = 'Oslo'"
CANONICAL_OSLO = 'segment Customer\nwhere city = "Oslo"\n'

CREATE = """
mutation Create($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    segment { id name displayName type audience state draft status tags timezone
              schedule { kind cron } createdBy
              definition { version text valid diagnostics { code } } }
    userErrors { code field message span { line column } }
  }
}
"""


def create(api: Api, **fields: Any) -> Json:
    """createSegment with defaults for a valid dynamic Customer segment; returns the payload."""
    payload: Json = {"audience": "Customer", "definition": {"text": OSLO}}
    payload |= fields
    result: Json = api.data(CREATE, input=payload)["createSegment"]
    return result


def create_ok(api: Api, **fields: Any) -> Json:
    """createSegment that must succeed; returns the segment."""
    payload = create(api, **fields)
    assert payload["userErrors"] == []
    segment: Json = payload["segment"]
    return segment


def codes(payload: Json) -> list[tuple[str, list[str]]]:
    return [(e["code"], e["field"]) for e in payload["userErrors"]]
