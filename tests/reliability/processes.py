"""Real `segments` processes for fault tests: started with this checkout's environment, their
output kept in a log file (shown when a test fails), stopped by PID only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from server.settings import REPO_ROOT


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine or container dies."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def start(args: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> Process:
    """`python -m server.cli <args>` (the `segments` command) with extra environment, from the
    source tree `cwd` (`-m` puts it first on sys.path)."""
    fd, name = tempfile.mkstemp(prefix=f"segments-{args[0]}-", suffix=".log")
    out = os.fdopen(fd, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args],
        cwd=cwd, env=os.environ | (env or {}), stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out.close()
    return Process(proc, Path(name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_ready(base_url: str, process: Process, timeout: float = 90.0) -> None:
    """Until the served API's /readyz answers 200. Raises RuntimeError with the log's tail
    when the process exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.proc.poll() is not None:
            raise RuntimeError(f"the API exited:\n{process.tail()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API was not ready in {timeout:.0f} s:\n{process.tail()}")


def serve(env: dict[str, str] | None = None) -> tuple[Process, str]:
    """`segments serve` on a free loopback port, ready; returns it and its base URL."""
    port = free_port()
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port)], env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base_url, process)
    except RuntimeError:
        process.stop()
        raise
    return process, base_url


def children(process: Process) -> list[int]:
    """PIDs of the process's children (uvicorn's worker processes, for one)."""
    path = Path(f"/proc/{process.proc.pid}/task/{process.proc.pid}/children")
    return [int(pid) for pid in path.read_text().split()]
