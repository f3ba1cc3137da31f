"""refreshSegments queues jobs for the refresh engine on the real Redis; cancel stops them."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import neo4j
import pytest
import redis

from server.settings import Settings
from tests.api.conftest import Api, codes, create_ok, running

REFRESH = """
mutation($ids: [ID!]!) {
  refreshSegments(ids: $ids) { jobId segments { name status } userErrors { code field } }
}
"""

CANCEL = """
mutation($id: ID!) { cancelSegmentRefresh(id: $id) { segment { status } userErrors { code } } }
"""


def own_database(url: str) -> str:
    """The configured Redis server (REDIS_URL), database 9: a database of its own, so no
    worker started elsewhere picks these jobs up."""
    return urlsplit(url)._replace(path="/9").geturl()


@pytest.fixture
def redis_url(settings: Settings) -> str:
    return own_database(settings.redis_url)


@pytest.fixture
def queued(empty_graph: neo4j.Driver, settings: Settings, redis_url: str) -> Iterator[Api]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    with running(settings.model_copy(update={"redis_url": redis_url})) as api:
        yield api
    client.flushdb()
    client.close()


def test_refresh_is_queued_once_and_can_be_cancelled(queued: Api, redis_url: str) -> None:
    seg = create_ok(queued, name="oslo")
    first = queued.data(REFRESH, ids=[seg["id"]])["refreshSegments"]
    assert first["userErrors"] == []
    assert first["jobId"].startswith("refresh:")
    assert first["segments"] == [{"name": "oslo", "status": "QUEUED"}]
    again = queued.data(REFRESH, ids=[seg["id"]])["refreshSegments"]
    assert again["jobId"] == first["jobId"]  # deterministic: a double submit is one job
    assert redis.Redis.from_url(redis_url).exists(f"arq:job:{first['jobId']}")
    cancelled = queued.data(CANCEL, id=seg["id"])["cancelSegmentRefresh"]
    assert cancelled == {"segment": {"status": "CANCELLED"}, "userErrors": []}
    nothing = queued.data(CANCEL, id=seg["id"])["cancelSegmentRefresh"]
    assert nothing["userErrors"] == [{"code": "NOTHING_TO_CANCEL"}]


def test_drafts_cannot_run(queued: Api) -> None:
    ok = create_ok(queued, name="oslo")
    draft = create_ok(queued, name="draft", definition={"text": "segment Customer where"})
    refused = queued.data(REFRESH, ids=[ok["id"], draft["id"], "bogus"])["refreshSegments"]
    assert refused["jobId"] is None
    assert codes(refused) == [("DEFINITION_INVALID", ["ids", "1"]), ("NOT_FOUND", ["ids", "2"])]
