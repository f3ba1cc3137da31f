"""Typed settings from the environment (prefix-free names users know from Neo4j and Redis)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    # An empty variable means "not set" (compose passes `${X:-}` through as "").
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    neo4j_uri: str = "bolt://127.0.0.1:7687"  # neo4j:// routing URIs work unchanged (cluster)
    neo4j_user: str = "neo4j"
    neo4j_password: str = "segments-dev-password"
    neo4j_database: str = "neo4j"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # Local services started by `segments services up` (ignored when pointing at remote ones).
    data_dir: Path = REPO_ROOT / ".data"
    cache_dir: Path = REPO_ROOT / ".cache"
    neo4j_version: str = "5.26.30"
    neo4j_heap: str = "4g"
    neo4j_pagecache_mb: int = 4096
    neo4j_tx_memory_mb: int = 4096
    # db.tx_log.rotation.retention_policy: how much transaction log survives a checkpoint
    neo4j_tx_log_retention: str = "1G size"
    redis_persistence: bool = True

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Idle keep-alive connections are kept longer than clients and load balancers keep theirs
    # (httpx 5 s, most balancers 60 s): with uvicorn's 5 s both ends closed at the same moment
    # and a request sent on the closing connection got no answer (1 in 3,000 under load).
    api_keep_alive_s: int = 65
    # API processes behind one port (uvicorn workers): the API keeps no state of its own, so
    # more processes use more cores; GraphQL and the Python driver are CPU-bound per request.
    api_workers: int = 1
    # uvicorn's line per request: off by default, since /metrics counts every request by
    # route and status and the line cost ~3 % of the API's CPU under load.
    api_access_log: bool = False
    production: bool = False
    # API keys: required when true; None means "in production only" (local development may
    # call without a key and acts as an admin).
    auth_required: bool | None = None
    schema_file: Path | None = None

    # GraphQL API limits: abusive documents are refused before they reach Neo4j.
    graphql_max_depth: int = 12
    graphql_max_tokens: int = 4000
    graphql_max_aliases: int = 30
    max_page_size: int = 100
    max_request_bytes: int = 1_000_000
    # A dependency that does not answer within this is unready: under the 3 s a load balancer
    # should take to notice, yet above a ping that must open a connection over a slow link.
    readiness_timeout_s: float = 2.5
    # An API request should fail fast rather than wait out the driver's 30 s default retries.
    api_neo4j_retry_s: float = 5.0
    # A Neo4j that accepts connections but does not answer (starting up, overloaded) must not
    # hold a request for the driver's default 60 s: it fails as UNAVAILABLE instead.
    api_neo4j_acquire_timeout_s: float = 3.0
    # Neo4j sessions an API process runs at once; more requests wait their turn in order
    # (server.store.db.Db.sessions). The driver's pool holds a few more connections.
    api_neo4j_sessions: int = 100
    api_redis_connect_timeout_s: float = 3.0
    # A GraphQL request still unanswered after this long answers UNAVAILABLE (503): a Neo4j
    # coming back up can hold each of a request's queries for the timeouts above.
    api_request_timeout_s: float = 20.0

    # Live data: the change applier's lock, renewed while it works; a killed applier's changes
    # wait at most this long for the next one.
    live_lock_ms: int = 10_000
    # Apply a change segment after segment (one claim, evaluation and switch each) instead of
    # a dependency level per round: the path before rounds, kept for bench/live's comparison.
    live_one_by_one: bool = False
    # Have Neo4j plan the live rounds' queries when a worker starts and when live definitions
    # change, so the first change of each kind does not pay it (off: bench/live's comparison).
    live_warm_plans: bool = True

    # Outgoing HTTP (webhooks, HTTP exports) reaches public addresses only; these host names
    # and networks (comma-separated, e.g. "hooks.internal,10.1.0.0/16") are allowed as well.
    # Outside production, loopback is allowed too. See server/outgoing.py.
    outgoing_allow: str = ""

    # Folder export destinations are confined under this directory (default DATA_DIR/exports).
    export_root: Path | None = None

    @property
    def keys_required(self) -> bool:
        return self.production if self.auth_required is None else self.auth_required

    @property
    def exports_dir(self) -> Path:
        return self.export_root or self.data_dir / "exports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
