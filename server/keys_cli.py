"""`segments keys ...`: create, list and revoke API keys from a terminal (the first admin key
has to come from somewhere)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from server.access import ApiKeyRecord, Role, create_key, list_keys, revoke_key
from server.settings import get_settings
from server.store import Db, ensure_schema

T = TypeVar("T")
keys_app = typer.Typer(help="API keys and their roles.", no_args_is_help=True)
console = Console()


def _with_db(work: Callable[[Db], Awaitable[T]]) -> T:
    from neo4j import AsyncGraphDatabase

    settings = get_settings()

    async def run() -> T:
        auth = (settings.neo4j_user, settings.neo4j_password)
        driver = AsyncGraphDatabase.driver(
            settings.neo4j_uri, auth=auth, notifications_min_severity="OFF"
        )
        try:
            db = Db(driver, settings.neo4j_database)
            await ensure_schema(db)
            return await work(db)
        finally:
            await driver.close()

    try:
        return asyncio.run(run())
    except OSError as exc:  # ServiceUnavailable is an OSError too
        console.print(f"[bold red]error:[/] Neo4j is not reachable at {settings.neo4j_uri}: {exc}")
        raise typer.Exit(code=1) from None


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="who or what uses the key")],
    role: Annotated[Role, typer.Option(case_sensitive=False, help="what it may do")],
    pii: Annotated[bool, typer.Option(help="may read and filter on PII (admins always)")] = False,
) -> None:
    """Create a key and print it once: store it now, it cannot be shown again."""
    now = datetime.now(UTC)
    new = _with_db(lambda db: create_key(db, name=name, role=role, pii=pii, actor="cli", now=now))
    console.print(f"created key {new.record.id} ({new.record.role}, pii={new.record.pii})")
    print(new.token)


@keys_app.command("list")
def list_command() -> None:
    """Every key with its role; secrets are never shown."""
    table = Table("id", "name", "role", "pii", "created", "last used", "revoked")
    for k in _with_db(list_keys):
        table.add_row(
            k.id, k.name, str(k.role), str(k.pii), _when(k.created_at), _when(k.last_used_at),
            _when(k.revoked_at),
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="the key's id (seg_<id>_...)")]) -> None:
    """Revoke a key at once."""
    now = datetime.now(UTC)
    found: ApiKeyRecord | None = _with_db(lambda db: revoke_key(db, key_id, now))
    if found is None:
        console.print(f"[bold red]error:[/] no API key {key_id}")
        raise typer.Exit(code=1)
    console.print(f"revoked {found.id} ({found.name})")


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""
