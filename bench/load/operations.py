"""The API operations load and fault tests send, and how a response is judged.

An answer is `ok`, a typed error (`extensions.code` on every error: UNAVAILABLE during an
outage), or a failure: a 5xx that is not a typed 503, an error without a code or with
INTERNAL_SERVER_ERROR, or a body that leaks a traceback or Cypher.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx

LIST = """query List($first: Int) { segments(first: $first) {
  totalCount edges { node { id name status memberCount } } } }"""
MEMBERS = """query Members($id: ID!, $after: String) { segment(id: $id) {
  memberCount members(first: 50, after: $after) {
    totalCount edges { cursor node { key sinceVersion } } pageInfo { hasNextPage } } } }"""
COUNT = """query Count($id: ID!) { segment(id: $id) { memberCount status } }"""
COMPILE = """query Compile($text: String!) {
  compileSegment(definition: {text: $text}, estimate: false) { __typename } }"""
REFRESH = """mutation Refresh($ids: [ID!]!) { refreshSegments(ids: $ids) {
  jobId userErrors { code } } }"""
CREATE = """mutation Create($input: CreateSegmentInput!) { createSegment(input: $input) {
  segment { id } userErrors { code message } } }"""

_LEAKS = re.compile(r"Traceback \(most recent call last\)|neo4j\.exceptions|MATCH \(|File \"/")


@dataclass(frozen=True, slots=True)
class Outcome:
    op: str
    status: int  # HTTP status, 0 when the API could not be reached at all
    seconds: float
    codes: tuple[str, ...]  # extensions.code of each error
    failure: str | None  # why this answer is unacceptable, None when it is fine
    data: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.codes and self.failure is None


def judge(op: str, status: int, body: str, seconds: float) -> Outcome:
    if _LEAKS.search(body):
        return Outcome(op, status, seconds, (), f"leak in body: {body[:200]}")
    try:
        parsed = json.loads(body)
    except ValueError:
        return Outcome(op, status, seconds, (), f"HTTP {status}, not JSON: {body[:120]}")
    errors = parsed.get("errors") or [] if isinstance(parsed, dict) else []
    codes = tuple(str((e.get("extensions") or {}).get("code")) for e in errors)
    failure = None
    if status >= 500 and not (status == 503 and codes and set(codes) == {"UNAVAILABLE"}):
        failure = f"HTTP {status}: {body[:200]}"
    elif any(c in ("None", "INTERNAL_SERVER_ERROR") for c in codes):
        failure = f"untyped error {codes}: {body[:200]}"
    data = parsed.get("data") if isinstance(parsed, dict) else None
    return Outcome(op, status, seconds, codes, failure, data)


async def call(
    client: httpx.AsyncClient, op: str, query: str, variables: dict[str, Any]
) -> Outcome:
    """POST one GraphQL operation and judge the answer (never raises)."""
    start = time.perf_counter()
    try:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
    except httpx.HTTPError as exc:
        return Outcome(op, 0, time.perf_counter() - start, (), f"no answer: {exc!r}")
    return judge(op, response.status_code, response.text, time.perf_counter() - start)
