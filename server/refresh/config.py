"""Refresh engine settings from the environment (`REFRESH_*`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class RefreshSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REFRESH_", env_file=".env", extra="ignore")

    system_cron: str = "0 */12 * * *"  # the system refresh cadence (every 12 hours)
    system_timezone: str = "UTC"
    lease_ms: int = 60_000  # a run's claim lapses this long after its last heartbeat
    busy_wait_s: float = 300.0  # a job waits this long for another run on its segment
    batch_size: int = 10_000
    write_in_flight: int = 1  # membership write transactions a run keeps going at once
    keep_versions: int = 10  # membership versions kept for "as of a past run"
    # Garbage collection spares memberships of versions replaced less than this long ago
    # (see server.refresh.runs.oldest_kept_version).
    gc_grace_s: float = 0.0
    keep_runs: int = 1000  # run history kept per segment (trend, growth)
    job_timeout_s: int = 3600
    pass_timeout_s: int = 6 * 3600
    max_tries: int = 5
    keep_result_s: int = 3600
    worker_ttl_s: float = 15.0  # a worker silent this long is dead: its refresh job runs again
