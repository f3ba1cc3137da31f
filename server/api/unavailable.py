"""Neo4j or Redis away: a typed UNAVAILABLE answer instead of a 500 or a masked internal error.

A dependency outage is not a bug of the request: clients should retry later, and readiness
already says the process is unavailable. GraphQL resolvers that hit one get an `errors[]`
entry with `extensions.code = UNAVAILABLE` (see errors.ErrorPolicy); anything outside GraphQL
(authentication before the document is read, the CSV and ingest routes) answers 503 with the
same GraphQL-shaped body through `UnavailableMiddleware`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from neo4j.exceptions import (
    ConnectionAcquisitionTimeoutError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

App = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("segments.api")

UNAVAILABLE = "UNAVAILABLE"
MESSAGE = "a backing service (database or queue) is unavailable: retry later"
# A pool that hands out no connection in time is Neo4j not answering (or the process
# overloaded): either way the client should retry later, not read it as a bug.
_KINDS = (
    ServiceUnavailable, SessionExpired, TransientError, ConnectionAcquisitionTimeoutError,
    RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError,
)  # fmt: skip


def is_unavailable(exc: BaseException | None) -> bool:
    """Whether `exc`, or an exception it was raised from, says a dependency is unreachable."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _KINDS):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_response() -> JSONResponse:
    body = {"errors": [{"message": MESSAGE, "extensions": {"code": UNAVAILABLE}}]}
    return JSONResponse(body, status_code=503, headers={"retry-after": "5"})


class UnavailableMiddleware:
    """Pure ASGI middleware: an outage raised before the response started becomes a 503 with
    code UNAVAILABLE (after it started, the connection is cut as before: nothing else is
    possible mid-stream)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _answering(self.app, None, scope, receive, send)


async def within_deadline(
    app: App, seconds: float, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run `app` for one request; past `seconds` before it answered, answer UNAVAILABLE (503).
    An answer already started is cut as it is (nothing else can be sent then)."""
    await _answering(app, seconds, scope, receive, send)


async def _answering(
    app: App, deadline_s: float | None, scope: Scope, receive: Receive, send: Send
) -> None:
    """`app`, or UNAVAILABLE (503) when it raised an outage or passed the deadline (a
    TimeoutError, which counts as one) before its answer started."""
    started = False

    async def tracking(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        async with asyncio.timeout(deadline_s):
            await app(scope, receive, tracking)
    except Exception as exc:
        if started or not is_unavailable(exc):
            raise
        log.warning("%s %s: dependency unavailable or no answer in time: %s",
                    scope["method"], scope["path"], exc or type(exc).__name__)  # fmt: skip
        await unavailable_response()(scope, receive, send)
