"""The arq task wrapper: connection trouble and a busy segment become retries with backoff."""

from __future__ import annotations

import pytest
from arq import Retry
from neo4j.exceptions import ClientError, ServiceUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError

from server.refresh.claims import SegmentBusy
from server.worker import WorkerSettings, _retrying

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _raise(exc: Exception) -> None:
    raise exc


@pytest.mark.parametrize(
    ("exc", "defer_ms"),
    [
        (ServiceUnavailable("neo4j gone"), 8000),
        (RedisConnectionError("redis gone"), 8000),
        (SegmentBusy("s"), 30000),
    ],
)
async def test_transient_trouble_is_retried_later(exc: Exception, defer_ms: int) -> None:
    with pytest.raises(Retry) as raised:
        await _retrying({"job_try": 3}, lambda: _raise(exc))
    assert raised.value.defer_score == defer_ms


async def test_other_errors_are_not_retried() -> None:
    with pytest.raises(ClientError):
        await _retrying({"job_try": 1}, lambda: _raise(ClientError("bad query")))


def test_refresh_tasks_set_tries_timeouts_and_kept_results() -> None:
    by_name = {f.name: f for f in WorkerSettings.functions if hasattr(f, "name")}
    for name in ("refresh_segment", "refresh_segments"):
        function = by_name[name]
        assert function.max_tries
        assert function.timeout_s
        assert function.keep_result_s
    [tick] = WorkerSettings.cron_jobs
    assert tick.unique
