"""The real console stack for end-to-end tests: demo data in the test's Neo4j, the API under
uvicorn and an arq worker, each in a process of its own on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.reliability import processes

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


@contextmanager
def running_stack(logs: Path) -> Iterator[Stack]:
    """API (keys required) and worker on the environment's Neo4j and Redis."""
    env = dict(os.environ, AUTH_REQUIRED="true")
    admin = _create_key(env, "admin")
    sales = _create_key(env, "sales")
    worker = processes.start(["worker"], {"AUTH_REQUIRED": "true"})
    try:
        api, base = processes.serve({"AUTH_REQUIRED": "true"})
    except RuntimeError:
        worker.stop()
        raise
    try:
        yield Stack(base, admin, sales)
    finally:
        api.stop()
        worker.stop()
        _keep_log(api, logs / "api.log")
        _keep_log(worker, logs / "worker.log")


def _keep_log(process: processes.Process, path: Path) -> None:
    """The process's output beside the screenshots, for review after a run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(process.log.read_bytes())
