"""Who is calling: an API key from `Authorization: Bearer <key>` (or `X-API-Key`).

Without a key the caller is refused when keys are required (always in production); in local
development, a caller without a key is an admin named by the optional `X-Actor` header.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.responses import JSONResponse

from server.access import InvalidKey, Principal, authenticate
from server.access.roles import local_developer
from server.settings import Settings
from server.store import Db

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"


class Unauthenticated(Exception):
    """No usable API key; the message says what is wrong (never echoes the key)."""


def presented_key(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.casefold() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key") or None


async def identify(
    db: Db, settings: Settings, key: str | None, actor_hint: str | None
) -> Principal:
    """The principal for a presented key (or none). Raises Unauthenticated."""
    if key is None:
        if settings.keys_required:
            raise Unauthenticated("an API key is required: send `Authorization: Bearer <key>`")
        return local_developer((actor_hint or "anonymous")[:100])
    try:
        return await authenticate(db, key, datetime.now(UTC))
    except InvalidKey as exc:
        raise Unauthenticated(str(exc)) from None


async def identify_headers(db: Db, settings: Settings, headers: Mapping[str, str]) -> Principal:
    """The principal of an HTTP request. Raises Unauthenticated."""
    return await identify(db, settings, presented_key(headers), headers.get("x-actor"))


def unauthenticated_response(error: Unauthenticated) -> JSONResponse:
    """GraphQL-shaped, so clients read it like any other error."""
    body = {"errors": [{"message": str(error), "extensions": {"code": UNAUTHENTICATED}}]}
    return JSONResponse(body, status_code=401, headers={"www-authenticate": "Bearer"})


def forbidden_response(message: str) -> JSONResponse:
    body = {"errors": [{"message": message, "extensions": {"code": FORBIDDEN}}]}
    return JSONResponse(body, status_code=403)
