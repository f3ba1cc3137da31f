"""The arq worker loop, kept alive through a Redis outage.

arq's worker lets a Redis connection error out of its poll loop and exits (found by
tests/reliability/test_outages.py: a worker died the moment Redis stopped, so nothing ran once
Redis came back until something restarted it). `ResilientWorker` logs the error, waits and polls
again; jobs already running go on (their Neo4j work does not need Redis), and the loop's job
slots are recounted from the tasks that really run, since an error inside `start_jobs` can leave
a slot taken by no job.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
from typing import Any

from arq.logs import default_log_config
from arq.worker import Worker, get_kwargs
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

log = logging.getLogger("segments.worker")

RETRY_S = 1.0
# redis-py turns a connection reset during WATCH into a WatchError; arq handles the WatchError
# of a job taken by another worker itself, so one that reaches the loop is a lost connection
# (found by the connection-reset fault: the worker exited and no refresh ran after recovery).
_REDIS_DOWN = (
    RedisConnectionError, RedisTimeoutError, WatchError, ConnectionError, TimeoutError,
)  # fmt: skip


class ResilientWorker(Worker):
    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except _REDIS_DOWN as exc:
            log.warning("Redis unavailable, polling again in %.0f s: %s", RETRY_S, exc)
            self._recount_slots()
            await asyncio.sleep(RETRY_S)

    def _recount_slots(self) -> None:
        running = sum(not t.done() for t in self.tasks.values())
        self.job_counter = running
        # Each running job's completion releases one slot (its done callback), so the free
        # slots start at what arq's own semaphore would hold with `running` jobs taken (a
        # bounded one would refuse the releases of jobs started before it).
        self.sem = asyncio.Semaphore(self.max_jobs + 1 - running)  # type: ignore[assignment]


def run_worker(settings_cls: type[Any]) -> None:
    """Run a ResilientWorker with the settings of `settings_cls` (arq's WorkerSettings form),
    logging as arq's own command does (a line per job) plus our `segments.*` loggers."""
    config = default_log_config(verbose=False)
    config["loggers"]["segments"] = {"handlers": ["arq.standard"], "level": "INFO"}
    logging.config.dictConfig(config)
    kwargs: dict[str, Any] = get_kwargs(settings_cls)
    ResilientWorker(**kwargs).run()
