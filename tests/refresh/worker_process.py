"""A refresh worker in a process of its own, for crash tests (they SIGKILL it).

Settings come from the environment (`REFRESH_*`, `NEO4J_URI`, `REDIS_URL`); definitions are
evaluated with the tests' literal compiler."""

from __future__ import annotations

import asyncio

from arq.connections import RedisSettings
from arq.worker import Worker

from server.refresh.config import RefreshSettings
from server.settings import get_settings
from server.worker import refresh_functions, shutdown, startup
from tests.refresh.helpers import literal_compiler


async def main() -> None:
    refresh = RefreshSettings()
    worker = Worker(
        functions=refresh_functions(refresh),
        redis_settings=RedisSettings.from_dsn(get_settings().redis_url),
        poll_delay=0.05,
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"compiler": literal_compiler, "refresh_settings": refresh},
    )
    await worker.main()


if __name__ == "__main__":
    asyncio.run(main())
