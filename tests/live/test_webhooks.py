"""Webhooks: a receiver that fails then recovers gets each membership change, signed, with
one idempotency key per change however often it was tried (real worker, Redis, Neo4j)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import neo4j
from arq.connections import RedisSettings, create_pool
from arq.worker import Worker

from server.refresh.config import RefreshSettings
from server.settings import Settings
from server.worker import live_functions, refresh_functions, shutdown, startup
from tests.api.conftest import Api, codes, create_ok
from tests.exports.receiver import receiving
from tests.live.test_ingest import BATCH, INGEST

CREATE = """
mutation($segment: ID!, $url: String!, $secret: String) {
  createSegmentWebhook(segment: $segment, url: $url, secret: $secret) {
    webhook { id url } secret userErrors { code field }
  }
}
"""


async def _burst_until_quiet(settings: Settings, rounds: int) -> None:
    """Real burst workers, again while retries are deferred (arq defers by seconds)."""
    pool = await create_pool(RedisSettings.from_dsn(settings.redis_url))
    try:
        for _ in range(rounds):
            worker = Worker(
                functions=[*refresh_functions(RefreshSettings()), *live_functions()],
                redis_pool=pool, burst=True, poll_delay=0.05, handle_signals=False,
                on_startup=startup, on_shutdown=shutdown,
            )  # fmt: skip
            try:
                await worker.main()
            finally:
                await shutdown(worker.ctx)
            if not await pool.zcard("arq:queue"):
                return
            await asyncio.sleep(1.1)
    finally:
        await pool.aclose()


def test_deliveries_are_signed_retried_and_keyed(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    seg = create_ok(api, name="oslo", definition={"text": "segment Customer where city = 'Oslo'"})
    bad = api.data(CREATE, segment=seg["id"], url="ftp://x")["createSegmentWebhook"]
    assert codes(bad) == [("INVALID_VALUE", ["url"])]
    metadata = "http://169.254.169.254/latest/meta-data"  # SSRF: refused at registration
    refused = api.data(CREATE, segment=seg["id"], url=metadata)["createSegmentWebhook"]
    assert codes(refused) == [("URL_NOT_ALLOWED", ["url"])]
    with receiving() as receiver:
        receiver.statuses = [500, 503]  # down twice, then up
        made = api.data(CREATE, segment=seg["id"], url=receiver.url,
                        secret="s3cret")["createSegmentWebhook"]  # fmt: skip
        assert made["userErrors"] == []
        assert made["secret"] == "s3cret"
        api.data(INGEST, records=BATCH)
        asyncio.run(_burst_until_quiet(settings, rounds=6))
        tries = receiver.requests
        assert [r.status for r in tries] == [500, 503, 200]
        assert len({r.headers["x-idempotency-key"] for r in tries}) == 1
        body = tries[-1].body
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert tries[-1].headers["x-segments-signature"] == expected
        event = json.loads(body)
        assert (event["type"], event["entered"], event["exited"]) == (
            "segment.membership.changed", ["c1"], []
        )  # fmt: skip
