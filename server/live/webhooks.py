"""Outgoing webhooks: who entered and who left a segment, POSTed to a consumer's URL.

At least once, with an idempotency key: each (webhook, segment version) is one arq job whose id
is the key, so an event is queued once and retried with backoff until the receiver answers 2xx
(a receiver may see it twice; the key tells it so). The body is signed with the webhook's
secret (`X-Segments-Signature: sha256=<HMAC of the body>`) so the receiver can trust it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from arq import Retry
from arq.connections import ArqRedis

from server.outgoing import OutgoingPolicy, RefusedUrl, check_outgoing
from server.store.db import Db, Tx, rows

log = logging.getLogger("segments.live.webhooks")

DELIVER_TASK = "deliver_webhook"
MAX_TRIES = 10
TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    segment_id: str
    url: str
    created_at: datetime
    created_by: str


class InvalidUrl(ValueError):
    pass


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidUrl("an http:// or https:// URL")
    return url.strip()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _webhook(node: Any) -> Webhook:
    return Webhook(
        id=node["id"], segment_id=node["segmentId"], url=node["url"],
        created_at=node["createdAt"].to_native(), created_by=node["createdBy"],
    )  # fmt: skip


async def create_webhook(
    db: Db, segment_id: str, url: str, secret: str | None, actor: str, now: datetime
) -> tuple[Webhook, str] | None:
    """The webhook and its secret (generated when not given); None for an unknown segment."""
    key = secret or secrets.token_urlsafe(32)

    async def work(tx: Tx) -> Webhook | None:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $segment}) "
            "CREATE (s)-[:_NOTIFIES]->(w:_Webhook {id: $id, segmentId: $segment, url: $url, "
            " secret: $secret, createdAt: $now, createdBy: $actor}) RETURN w",
            segment=segment_id, id=secrets.token_hex(8), url=url, secret=key, now=now,
            actor=actor,
        )  # fmt: skip
        return _webhook(found[0]["w"]) if found else None

    made = await db.write(work)
    return None if made is None else (made, key)


async def delete_webhook(db: Db, webhook_id: str) -> bool:
    async def work(tx: Tx) -> bool:
        found = await rows(
            tx, "MATCH (w:_Webhook {id: $id}) DETACH DELETE w RETURN count(*) AS n", id=webhook_id
        )
        return bool(found[0]["n"])

    return await db.write(work)


async def list_webhooks(db: Db, segment_id: str) -> list[Webhook]:
    found = await db.read(
        "MATCH (w:_Webhook {segmentId: $id}) RETURN w ORDER BY w.createdAt, w.id", id=segment_id
    )
    return [_webhook(r["w"]) for r in found]


async def queue_deliveries(redis: ArqRedis, db: Db, event: dict[str, Any]) -> int:
    """One job per webhook of the event's segment; its id is the idempotency key."""
    hooks = await list_webhooks(db, event["segmentId"])
    for hook in hooks:
        key = f"{hook.id}:{event['segmentId']}:{event['version']}"
        await redis.enqueue_job(DELIVER_TASK, hook.id, event, _job_id=f"hook:{key}")
    return len(hooks)


async def deliver(
    db: Db, webhook_id: str, event: dict[str, Any], attempt: int, outgoing: OutgoingPolicy
) -> int:
    """POST the event; raises Retry (backoff) unless the receiver answers 2xx. Returns the
    status. A webhook deleted meanwhile is dropped (0), and so is one whose URL now resolves
    to an address `outgoing` refuses (-1, logged): retrying would not change that."""
    found = await db.read("MATCH (w:_Webhook {id: $id}) RETURN w", id=webhook_id)
    if not found:
        return 0
    hook = found[0]["w"]
    try:
        await check_outgoing(hook["url"], outgoing)
    except RefusedUrl as exc:
        log.warning("webhook refused", extra={"webhook": webhook_id, "reason": str(exc)})
        return -1
    body = json.dumps({"type": "segment.membership.changed", **event}, default=str).encode()
    headers = {
        "content-type": "application/json",
        "x-idempotency-key": f"{webhook_id}:{event['segmentId']}:{event['version']}",
        "x-segments-signature": signature(hook["secret"], body),
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            response = await client.post(hook["url"], content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise Retry(defer=_backoff(attempt)) from exc
    if not response.is_success:
        raise Retry(defer=_backoff(attempt))
    return response.status_code


def _backoff(attempt: int) -> float:
    return float(min(2 ** max(attempt - 1, 0), 300))
