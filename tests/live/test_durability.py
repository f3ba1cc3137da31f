"""Durability: a real `segments worker` process killed (SIGKILL) while it applies an accepted
change loses nothing: after a restart the change reaches every segment's membership."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import neo4j
import redis

from server.live.queue import CHANGES, LOCK
from server.settings import Settings
from tests.api.conftest import Api, create_ok
from tests.api.test_splits import members
from tests.live.test_incremental import truth
from tests.live.test_ingest import INGEST

# Many segments reading the changed attribute: applying one change takes a while, long enough
# to kill the worker in the middle of it.
SEGMENTS = {f"s{i}": f"segment Customer where city = 'Oslo' or satisfaction >= {i * 4}"
            for i in range(24)}  # fmt: skip
LOCK_MS = 1500


def _worker() -> subprocess.Popen[bytes]:
    env = os.environ | {"LIVE_LOCK_MS": str(LOCK_MS)}
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _wait(what: str, done: Callable[[], bool], timeout: float = 90.0, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_an_accepted_change_survives_a_killed_worker(
    api: Api, empty_graph: neo4j.Driver, settings: Settings
) -> None:
    r = redis.Redis.from_url(settings.redis_url)
    r.delete(CHANGES, LOCK)
    customers = [
        {
            "entity": "Customer",
            "key": f"c{i}",
            "properties": {"city": "Rome", "satisfaction": i * 5},
        }
        for i in range(20)
    ]
    api.data(INGEST, records=customers)
    for name, text in SEGMENTS.items():
        create_ok(api, name=name, definition={"text": text})

    def current() -> bool:
        return all(
            members(empty_graph, n) == truth(empty_graph, t, dt.datetime.now(dt.UTC))
            for n, t in SEGMENTS.items()
        )

    first = _worker()
    try:
        _wait(
            "the first refreshes and the queued changes", lambda: current() and not r.llen(CHANGES)
        )
        time.sleep(1.0)  # let the worker go idle
        moved = [{"entity": "Customer", "key": "c0", "properties": {"city": "Oslo"}}]
        assert api.data(INGEST, records=moved)["ingestRecords"]["accepted"] == 1
        _wait("the applier to start", lambda: bool(r.exists(LOCK)), timeout=20, every=0.001)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        _stop(first)
    assert r.llen(CHANGES) == 1  # killed before it finished: the change is still queued
    assert not current()  # and some segment does not have c0 yet
    second = _worker()
    try:
        _wait("the change after the restart", lambda: current() and not r.llen(CHANGES))
    finally:
        _stop(second)
        _forget_killed_jobs(r)
        r.close()
    assert all("c0" in members(empty_graph, n) for n in SEGMENTS)


def _forget_killed_jobs(r: redis.Redis) -> None:
    """The killed worker's job stays "in progress" in arq until its timeout (an hour): burst
    workers of later tests would wait for it. Its changes were applied by the restart."""
    for key in r.scan_iter("arq:in-progress:live:*"):
        job_id = key.decode().removeprefix("arq:in-progress:")
        r.zrem("arq:queue", job_id)
        r.delete(key, f"arq:job:{job_id}")
