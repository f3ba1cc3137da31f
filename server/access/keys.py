"""API keys: `seg_<id>_<secret>`, shown once; Neo4j keeps the id and a SHA-256 of the secret.

The secret is 32 random bytes, so a fast hash is enough (no password stretching needed); the
comparison is constant-time. A key is looked up by its id, never by its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.access.roles import Principal, Role
from server.store.db import Db, Tx, rows

PREFIX = "seg"
# lastUsedAt is a hint for admins, not an audit log: written at most once per interval.
TOUCH_INTERVAL = timedelta(minutes=1)


class InvalidKey(Exception):
    """The presented key is malformed, unknown, revoked, or its secret does not match."""


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    role: Role
    pii: bool
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    last_used_at: datetime | None

    @staticmethod
    def of(node: Any) -> ApiKeyRecord:
        return ApiKeyRecord(
            id=node["id"],
            name=node["name"],
            role=Role(node["role"]),
            pii=bool(node["pii"]),
            created_at=node["createdAt"].to_native(),
            created_by=node["createdBy"],
            revoked_at=_native(node.get("revokedAt")),
            last_used_at=_native(node.get("lastUsedAt")),
        )


@dataclass(frozen=True, slots=True)
class NewKey:
    record: ApiKeyRecord
    token: str  # the only time the full key exists outside the caller's hands


def _native(value: Any) -> datetime | None:
    return None if value is None else value.to_native()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str]:
    """(id, secret) of a well-formed token; raises InvalidKey otherwise."""
    parts = token.strip().split("_")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        raise InvalidKey("not an API key: expected seg_<id>_<secret>")
    return parts[1], parts[2]


async def create_key(
    db: Db, *, name: str, role: Role, pii: bool, actor: str, now: datetime
) -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32).replace("_", "-")  # `_` separates the token's parts

    async def work(tx: Tx) -> ApiKeyRecord:
        found = await rows(
            tx,
            "CREATE (k:_ApiKey {id: $id, name: $name, role: $role, pii: $pii, hash: $hash,"
            " createdAt: $now, createdBy: $actor}) RETURN k",
            id=key_id, name=name, role=str(role), pii=pii or role is Role.ADMIN,
            hash=_digest(secret), now=now, actor=actor,
        )  # fmt: skip
        return ApiKeyRecord.of(found[0]["k"])

    record = await db.write(work)
    return NewKey(record=record, token=f"{PREFIX}_{key_id}_{secret}")


async def authenticate(db: Db, token: str, now: datetime) -> Principal:
    """The principal a key stands for. Raises InvalidKey."""
    key_id, secret = split_token(token)
    found = await db.read(
        "MATCH (k:_ApiKey {id: $id}) RETURN k.hash AS hash, k.name AS name, k.role AS role,"
        " k.pii AS pii, k.revokedAt IS NOT NULL AS revoked, k.lastUsedAt AS used",
        id=key_id,
    )
    if not found or not hmac.compare_digest(found[0]["hash"], _digest(secret)):
        raise InvalidKey("unknown API key")
    key = found[0]
    if key["revoked"]:
        raise InvalidKey("this API key was revoked")
    used = _native(key["used"])
    if used is None or now - used > TOUCH_INTERVAL:
        await _touch(db, key_id, now)
    return Principal(actor=f"key:{key['name']}", role=Role(key["role"]), pii=key["pii"],
                     key_id=key_id)  # fmt: skip


async def _touch(db: Db, key_id: str, now: datetime) -> None:
    async def work(tx: Tx) -> None:
        await rows(tx, "MATCH (k:_ApiKey {id: $id}) SET k.lastUsedAt = $now", id=key_id, now=now)

    await db.write(work)


async def list_keys(db: Db) -> list[ApiKeyRecord]:
    found = await db.read("MATCH (k:_ApiKey) RETURN k ORDER BY k.createdAt, k.id")
    return [ApiKeyRecord.of(r["k"]) for r in found]


async def revoke_key(db: Db, key_id: str, now: datetime) -> ApiKeyRecord | None:
    """Revoke a key (kept for the record); None when there is no such key."""

    async def work(tx: Tx) -> ApiKeyRecord | None:
        found = await rows(
            tx,
            "MATCH (k:_ApiKey {id: $id}) SET k.revokedAt = coalesce(k.revokedAt, $now) RETURN k",
            id=key_id, now=now,
        )  # fmt: skip
        return ApiKeyRecord.of(found[0]["k"]) if found else None

    return await db.write(work)
