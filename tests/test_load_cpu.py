"""The load run's CPU figure of a process counts its descendants: with `--api-workers 2` the
API's supervisor idles while its two children serve (it read 0.00 ms a request before)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bench.load.run import _cpu_seconds, _descendants

# A parent that idles while its child spins on a core for a second.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import time\\nend = time.process_time() + 1.0\\nwhile time.process_time() < end: pass\\n"
    "time.sleep(30)"])
time.sleep(30)
"""


def _own_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_process_cpu_includes_its_childrens() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        deadline = time.monotonic() + 20
        while _cpu_seconds(parent.pid) < 0.6 and time.monotonic() < deadline:
            time.sleep(0.1)
        # Well above what the parent's own start takes, well below the child's whole second
        # (the kernel's accounting and process_time differ by a tick or two).
        assert _cpu_seconds(parent.pid) >= 0.6
        assert _own_cpu_seconds(parent.pid) < 0.3  # the parent's own share: its start only
    finally:
        for child in _descendants(parent.pid):
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()
