"""refreshSegments queues jobs for the refresh engine on the real Redis; cancel stops them."""

from __future__ import annotations

from collections.abc import Iterator

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

# A Redis database of its own, so no worker started elsewhere picks these jobs up.
REDIS_URL = "redis://127.0.0.1:6379/9"


@pytest.fixture
def queued(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with running(settings.model_copy(update={"redis_url": REDIS_URL})) as api:
        yield api
    client.flushdb()
    client.close()


def test_refresh_is_queued_once_and_can_be_cancelled(queued: Api) -> None:
    seg = create_ok(queued, name="oslo")
    first = queued.data(REFRESH, ids=[seg["id"]])["refreshSegments"]
    assert first["userErrors"] == []
    assert first["jobId"].startswith("refresh:")
    assert first["segments"] == [{"name": "oslo", "status": "QUEUED"}]
    again = queued.data(REFRESH, ids=[seg["id"]])["refreshSegments"]
    assert again["jobId"] == first["jobId"]  # deterministic: a double submit is one job
    assert redis.Redis.from_url(REDIS_URL).exists(f"arq:job:{first['jobId']}")
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
