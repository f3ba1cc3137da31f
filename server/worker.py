"""arq worker settings: the jobs that run beside the API, on Redis.

Tasks stay thin: parse arguments, call a domain function, return a small JSON-able result.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import neo4j
from arq.connections import RedisSettings

from graph_schema import default_schema, load_schema
from server.settings import Settings, get_settings


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["settings"] = settings
    ctx["driver"] = neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx["driver"].close()


async def import_csv(
    ctx: dict[str, Any], directory: str, schema_file: str | None = None
) -> dict[str, Any]:
    """Import a folder of CSV files (the same as `segments import`), off the API's request path."""
    from graph_schema.importer import import_directory

    schema = load_schema(schema_file) if schema_file else default_schema()
    # The importer uses the blocking driver; a thread keeps the worker's event loop responsive.
    report = await asyncio.to_thread(import_directory, ctx["driver"], schema, Path(directory))
    return {"rows": report.rows, "bad_rows": report.bad_row_count, "seconds": report.seconds}


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


class WorkerSettings:
    functions: ClassVar[list[Any]] = [import_csv]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings(get_settings())
    job_timeout = 3600
    max_tries = 3
