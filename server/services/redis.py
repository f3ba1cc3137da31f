"""Redis from Debian's `redis-server` package, on loopback, owned by PID like Neo4j."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from server.services.process import (
    ServiceError,
    ServiceStatus,
    probe,
    require_free,
    require_loopback,
    spawn,
    stop_owned,
    wait_ready,
)
from server.settings import Settings

MARKER = "redis-server"


def address(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.redis_url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    data = settings.data_dir / "redis"
    return data, data / "redis.pid", data / "redis.log"


def status(settings: Settings) -> ServiceStatus:
    _, pid_file, _ = _paths(settings)
    host, port = address(settings)
    return probe("redis", f"redis://{host}:{port}", host, port, pid_file, MARKER)


def start(settings: Settings, *, timeout: float = 30.0) -> ServiceStatus:
    host, port = address(settings)
    require_loopback(host, "REDIS_URL")
    current = status(settings)
    if current.running:
        return current
    require_free(host, port, "REDIS_URL")
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError(
            "`redis-server` is not on PATH: apt-get update && apt-get install redis-server"
        )
    data, pid_file, log = _paths(settings)
    data.mkdir(parents=True, exist_ok=True)
    persistence = (
        ["--appendonly", "yes", "--appendfsync", "everysec"]
        if settings.redis_persistence
        else ["--save", "", "--appendonly", "no"]
    )
    argv = [
        binary,
        "--bind",
        "127.0.0.1" if host == "localhost" else host,
        "--port",
        str(port),
        "--dir",
        str(data),
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        *persistence,
    ]
    proc = spawn(argv, env={}, log_file=log, pid_file=pid_file, cwd=data)
    wait_ready(proc, lambda: _pong(settings), name="Redis", log_file=log, timeout=timeout)
    return status(settings)


def _pong(settings: Settings) -> bool:
    import redis

    try:
        with redis.Redis.from_url(settings.redis_url, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:  # refused or still loading its append-only file
        return False


def stop(settings: Settings) -> bool:
    """Stop our Redis by its PID; returns False when it was not running."""
    _, pid_file, _ = _paths(settings)
    return stop_owned(pid_file, MARKER, timeout=30)
