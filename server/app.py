"""The ASGI application: `create_app(settings)` wires the GraphQL API, health, readiness and
metrics around one async Neo4j driver and one Redis pool owned by the lifespan.

The process keeps nothing between requests but those pools, so several can run behind a load
balancer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from arq.connections import ArqRedis
from neo4j import AsyncGraphDatabase
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from graph_schema.loader import default_schema, load_schema
from graph_schema.model import GraphSchema
from server import heap
from server.access import Principal
from server.access.roles import NOBODY
from server.api import build_schema
from server.api.auth import (
    Unauthenticated,
    identify,
    identify_headers,
    presented_key,
    unauthenticated_response,
)
from server.api.context import Context, Deps
from server.api.errors import code_error
from server.api.live import ingest_endpoint
from server.api.members_csv import members_csv
from server.api.unavailable import UnavailableMiddleware, within_deadline
from server.api.websocket import CodedTransportWSHandler
from server.console import console_routes
from server.leads.schema_attributes import with_score_attributes
from server.outgoing import OutgoingPolicy
from server.settings import Settings, get_settings
from server.store import Db, ensure_schema

log = logging.getLogger("segments.api")

POOL_HEADROOM = 20  # Neo4j connections beyond API_NEO4J_SESSIONS


@dataclass
class StoreSetup:
    """Whether constraints exist yet: startup tolerates a Neo4j that is still coming up, and
    readiness finishes the job (idempotently) once it answers."""

    done: bool = False


class State(TypedDict):
    db: Db
    redis: ArqRedis
    graph: GraphSchema
    setup: StoreSetup


def load_graph_schema(settings: Settings) -> GraphSchema:
    """The schema the API serves. Raises SchemaError or OSError for a bad schema file."""
    loaded = load_schema(settings.schema_file) if settings.schema_file else default_schema()
    return with_score_attributes(loaded)  # scores written back are attributes segments read


async def _try_setup(db: Db, setup: StoreSetup) -> None:
    try:
        await ensure_schema(db)
        setup.done = True
    except Exception as exc:  # Neo4j down at startup: readiness reports it and retries
        log.warning("could not create constraints and indexes yet: %s", exc)


def make_lifespan(settings: Settings) -> Callable[[Starlette], Any]:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[State]:
        graph = load_graph_schema(settings)
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, max_transaction_retry_time=settings.api_neo4j_retry_s,
            connection_acquisition_timeout=settings.api_neo4j_acquire_timeout_s,
            connection_timeout=settings.api_neo4j_acquire_timeout_s,
            # Headroom over the sessions Db lets run: readiness pings and the refresh helpers
            # take connections without waiting their turn.
            max_connection_pool_size=settings.api_neo4j_sessions + POOL_HEADROOM,
            # Projections of optional properties draw "property does not exist" notices: noise.
            notifications_min_severity="OFF",
        )  # fmt: skip
        redis = ArqRedis.from_url(  # connects lazily, on first use
            settings.redis_url, socket_connect_timeout=settings.api_redis_connect_timeout_s
        )
        db = Db(driver, settings.neo4j_database, read_retry_s=settings.api_neo4j_retry_s,
                sessions=asyncio.Semaphore(settings.api_neo4j_sessions))  # fmt: skip
        setup = StoreSetup()
        await _try_setup(db, setup)
        heap.settle()  # what exists now lives as long as the process: out of every collection
        try:
            yield {"db": db, "redis": redis, "graph": graph, "setup": setup}
        finally:
            heap.release()
            await redis.aclose()
            await driver.close()

    return lifespan


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = CodedTransportWSHandler

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.production else "graphiql",
        )
        self.settings = settings

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        for error in result.errors or ():
            code_error(error, self.settings.graphql_max_tokens)
        return await super().process_result(request, result)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Identify the caller before strawberry reads the request: a bad or missing key is a
        401 whatever the document asks."""
        if scope["type"] == "http":
            db = scope["state"]["db"]
            try:
                principal = await identify_headers(db, self.settings, Headers(scope=scope))
            except Unauthenticated as exc:
                await unauthenticated_response(exc)(scope, receive, send)
                return
            scope["state"]["principal"] = principal
            if not _streams(Headers(scope=scope)):
                await within_deadline(super().__call__, self.settings.api_request_timeout_s,
                                      scope, receive, send)  # fmt: skip
                return
        await super().__call__(scope, receive, send)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        state = request.state
        principal = getattr(state, "principal", None)
        if principal is None:  # a websocket: headers now, connection params in on_ws_connect
            principal = await self._identify_socket(state.db, presented_key(request.headers))
        settings = self.settings
        deps = Deps(
            state.db, state.redis, state.graph, principal, settings.max_page_size,
            settings.exports_dir, outgoing=OutgoingPolicy.from_settings(settings),
        )  # fmt: skip
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            deps=deps,
            settings=self.settings,
        )

    async def _identify_socket(self, db: Db, key: str | None) -> Principal:
        """Without a key yet, a socket starts as nobody (a VIEWER-less principal) when keys are
        required: `connection_init` may still bring one."""
        try:
            return await identify(db, self.settings, key, None)
        except Unauthenticated:
            return NOBODY

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params if hasattr(context, "connection_params") else None
        key = _key_from_params(params)
        if key is not None:
            try:
                principal = await identify(context.deps.db, self.settings, key, None)
            except Unauthenticated as exc:
                payload: dict[str, object] = {"code": "UNAUTHENTICATED", "message": str(exc)}
                raise ConnectionRejectionError(payload) from None
            context.deps = replace(context.deps, principal=principal)
        elif not context.principal.identified:
            raise ConnectionRejectionError(
                {"code": "UNAUTHENTICATED", "message": "an API key is required"}
            )
        return UnsetType()  # a plain connection_ack, without a payload


def _streams(headers: Headers) -> bool:
    """An HTTP subscription (multipart or server-sent events) runs as long as it is read."""
    accept = headers.get("accept", "")
    return "multipart/mixed" in accept or "text/event-stream" in accept


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _check(name: str, probe: Awaitable[Any], timeout: float) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(probe, timeout)
    except Exception as exc:
        return name, f"{type(exc).__name__}: {exc}"[:300]
    return name, None


def _key_from_params(params: object) -> str | None:
    """The key a graphql-transport-ws client sends in `connection_init`'s payload, as
    `{"authorization": "Bearer <key>"}` or `{"apiKey": "<key>"}`."""
    if not isinstance(params, dict):
        return None
    lowered = {str(k).casefold(): v for k, v in params.items() if isinstance(v, str)}
    return presented_key({"authorization": lowered.get("authorization", ""),
                          "x-api-key": lowered.get("apikey", "")})  # fmt: skip


def make_readyz(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def readyz(request: Request) -> Response:
        state = request.state
        timeout = settings.readiness_timeout_s
        results = await asyncio.gather(
            _check("neo4j", state.db.ping(), timeout),
            _check("redis", state.redis.ping(), timeout),
        )
        if results[0][1] is None and not state.setup.done:
            await _try_setup(state.db, state.setup)
        checks = {name: error or "ok" for name, error in results}
        ready = all(error is None for _, error in results)
        body = {"status": "ready" if ready else "unavailable", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    return readyz


class Metrics:
    """Request counts and latencies per route, in a registry of this app's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry,
        )  # fmt: skip

    async def endpoint(self, request: Request) -> Response:
        return PlainTextResponse(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


KNOWN_ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics", "/ingest", "/"})


def _route_label(path: str) -> str:
    if path in KNOWN_ROUTES:
        return path
    if path.startswith("/console/"):
        return "/console"
    return "/segments/{id}/members.csv" if path.endswith("/members.csv") else "other"


class MetricsMiddleware:
    """Pure ASGI middleware: times each HTTP request (routes outside the API count as other)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _route_label(scope["path"])
        status = 500
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            m = self.metrics
            m.latency.labels(scope["method"], route).observe(time.perf_counter() - start)
            m.requests.labels(scope["method"], route, str(status)).inc()


class BodyLimitMiddleware:
    """Pure ASGI middleware: refuses request bodies over the limit with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(scope, receive, send)


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"error": "REQUEST_TOO_LARGE"}, status_code=413)
    await response(scope, receive, send)


def app_from_environment() -> Starlette:
    """The app of one of several API processes (`segments serve --workers N`)."""
    return create_app(get_settings())


def create_app(settings: Settings) -> Starlette:
    """The API application. The graph schema is loaded when the lifespan starts."""
    graphql = GraphQLApp(settings)
    metrics = Metrics()
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", make_readyz(settings)),
        Route("/metrics", metrics.endpoint),
        Route("/segments/{id}/members.csv", members_csv(settings)),
        Route("/ingest", ingest_endpoint(settings), methods=["POST"]),
        *console_routes(),
    ]
    app = Starlette(routes=routes, lifespan=make_lifespan(settings))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(UnavailableMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
