"""Redis from Debian's `redis-server` package, on loopback, owned by PID like Neo4j."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from server.services.process import (
    ServiceError,
    ServiceStatus,
    port_open,
    read_pid,
    spawn,
    stop_pid,
    wait_ready,
)
from server.settings import Settings

MARKER = "redis-server"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def address(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.redis_url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def _paths(settings: Settings) -> tuple[Path, Path, Path]:
    data = settings.data_dir / "redis"
    return data, data / "redis.pid", data / "redis.log"


def status(settings: Settings) -> ServiceStatus:
    _, pid_file, _ = _paths(settings)
    host, port = address(settings)
    pid = read_pid(pid_file, MARKER)
    answering = port_open(host, port)
    detail = "" if pid or not answering else "another process answers on this port (not ours)"
    return ServiceStatus(
        "redis", pid is not None and answering, pid, f"redis://{host}:{port}", detail
    )


def start(settings: Settings, *, timeout: float = 30.0) -> ServiceStatus:
    host, port = address(settings)
    if host not in LOOPBACK:
        raise ServiceError(
            f"REDIS_URL points at {host}: start that server yourself (we only run loopback)"
        )
    current = status(settings)
    if current.running:
        return current
    if port_open(host, port):
        raise ServiceError(
            f"port {host}:{port} is taken by another process; stop it or set REDIS_URL"
        )
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
    _, pid_file, _ = _paths(settings)
    pid = read_pid(pid_file, MARKER)
    if pid is None:
        return False
    stop_pid(pid, timeout=30)
    pid_file.unlink(missing_ok=True)
    return True
