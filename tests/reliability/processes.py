"""Real `segments` processes for fault tests: started with this checkout's environment, their
output kept in a log file (shown when a test fails), stopped by PID only."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

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


def start(args: list[str], env: dict[str, str] | None = None) -> Process:
    """`python -m server.cli <args>` (the `segments` command) with extra environment."""
    fd, name = tempfile.mkstemp(prefix=f"segments-{args[0]}-", suffix=".log")
    out = os.fdopen(fd, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args],
        cwd=REPO_ROOT, env=os.environ | (env or {}), stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out.close()
    return Process(proc, Path(name))
