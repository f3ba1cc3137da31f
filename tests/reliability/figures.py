"""Figures of the reliability tests: each test records what it ran (N) and what it found.

Short mode (default, CI) runs every test at a small N; `RELIABILITY_LONG=1` runs the long mode by
hand. Each run appends one JSON line per figure to DATA_DIR/reliability/<mode>.jsonl, and
`python -m bench.reliability.report` turns the latest figure of each test into the table in
docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from server.settings import REPO_ROOT, get_settings


def long_mode() -> bool:
    return os.environ.get("RELIABILITY_LONG", "") not in ("", "0", "false")


def scale(short: int, long: int) -> int:
    """The N of a test in the current mode."""
    return long if long_mode() else short


def mode() -> str:
    return "long" if long_mode() else "short"


def results_file(run_mode: str | None = None) -> Path:
    return get_settings().data_dir / "reliability" / f"{run_mode or mode()}.jsonl"


def current_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


@dataclass(frozen=True)
class Figure:
    test: str  # the row of the table in docs/reliability.md, e.g. "Parser robustness"
    what: str  # what was measured, e.g. "random text: crashes"
    n: int  # how many inputs / operations / runs
    result: str  # what was found, e.g. "0 crashes; p99 1.8 ms"
    threshold: str  # the target, e.g. "0 crashes; p99 < 5 ms"
    passed: bool
    mode: str = ""
    commit: str = ""
    at: float = 0.0


def record(test: str, what: str, n: int, result: str, threshold: str, passed: bool) -> Figure:
    """Append a figure for the report; the caller still asserts `passed` itself."""
    figure = Figure(test, what, n, result, threshold, passed, mode(), current_commit(), time.time())
    path = results_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(asdict(figure)) + "\n")
    return figure


def latest(run_mode: str) -> list[Figure]:
    """The newest figure per (test, what), in first-recorded order."""
    path = results_file(run_mode)
    if not path.exists():
        return []
    newest: dict[tuple[str, str], Figure] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            fig = Figure(**json.loads(line))
            newest[(fig.test, fig.what)] = fig
    return list(newest.values())
