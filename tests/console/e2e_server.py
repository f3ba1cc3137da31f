"""The real console stack for end-to-end tests: demo data in the test's Neo4j, the API under
uvicorn and an arq worker, each in a process of its own on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        return "Debian's chromium is not installed (./dev installs it when run as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Stack:
    base_url: str
    admin_key: str
    sales_key: str

    def gql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {self.admin_key}"},
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


def _create_key(env: dict[str, str], role: str) -> str:
    command = ["keys", "create", "--name", f"e2e {role}", "--role", role]
    out = subprocess.run(
        [sys.executable, "-m", "server.cli", *command],
        env=env, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API was not ready in 90 s: {log.read_text()[-2000:]}")


@contextmanager
def running_stack(logs: Path) -> Iterator[Stack]:
    """API (keys required) and worker on the environment's Neo4j and Redis."""
    port = free_port()
    env = dict(os.environ, AUTH_REQUIRED="true", API_HOST="127.0.0.1", API_PORT=str(port))
    admin = _create_key(env, "admin")
    sales = _create_key(env, "sales")
    logs.mkdir(parents=True, exist_ok=True)
    api_log, worker_log = logs / "api.log", logs / "worker.log"
    with api_log.open("wb") as api_out, worker_log.open("wb") as worker_out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "worker"], env=env, stdout=worker_out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        serve = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        api = subprocess.Popen(
            [sys.executable, "-m", "server.cli", *serve],
            env=env, stdout=api_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, api, api_log)
            yield Stack(base, admin, sales)
        finally:
            for proc in (api, worker):
                proc.terminate()
            for proc in (api, worker):
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
