"""Starting, watching and stopping a background service that we own, by its PID file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class ServiceError(RuntimeError):
    """A service could not be prepared, started or stopped; the message says what to do."""


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    running: bool
    pid: int | None
    address: str
    detail: str = ""


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def read_pid(pid_file: Path, marker: str) -> int | None:
    """The PID in `pid_file` if that process is alive and ours (its command line has `marker`)."""
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if marker in cmdline else None


def spawn(
    argv: Sequence[str], *, env: Mapping[str, str], log_file: Path, pid_file: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        # A new session so the service outlives the CLI and its terminal's signals.
        proc = subprocess.Popen(
            list(argv),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def wait_ready(
    proc: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    name: str,
    log_file: Path,
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(
                f"{name} exited with code {proc.returncode} while starting; "
                f"last lines of {log_file}:\n{tail(log_file)}"
            )
        if ready():
            return
        time.sleep(0.5)
    raise ServiceError(
        f"{name} did not become ready in {timeout:.0f}s; see {log_file}:\n{tail(log_file)}"
    )


def stop_pid(pid: int, *, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL if the process has not ended by `timeout`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def probe(name: str, url: str, host: str, port: int, pid_file: Path, marker: str) -> ServiceStatus:
    """Whether our process (by PID file) runs and answers on its port."""
    pid = read_pid(pid_file, marker)
    answering = port_open(host, port)
    detail = "" if pid or not answering else "another process answers on this port (not ours)"
    return ServiceStatus(name, pid is not None and answering, pid, url, detail)


def require_loopback(host: str, setting: str) -> None:
    """We only ever start servers on this machine's loopback interface."""
    if host not in LOOPBACK:
        msg = f"{setting} points at {host}: start that server yourself (we only run loopback)"
        raise ServiceError(msg)


def require_free(host: str, port: int, setting: str) -> None:
    if port_open(host, port):
        msg = f"port {host}:{port} is taken by another process; stop it or set {setting}"
        raise ServiceError(msg)


def stop_owned(pid_file: Path, marker: str, *, timeout: float) -> bool:
    """Stop the process of `pid_file` if it is ours; returns False when it was not running."""
    pid = read_pid(pid_file, marker)
    if pid is None:
        return False
    stop_pid(pid, timeout=timeout)
    pid_file.unlink(missing_ok=True)
    return True
