"""The `segments` command: services, import, demo data, API server and workers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from server.services import ServiceError
from server.services import neo4j as neo4j_service
from server.services import redis as redis_service
from server.settings import get_settings

app = typer.Typer(help="Customer segmentation engine on Neo4j.", no_args_is_help=True)
services_app = typer.Typer(help="Local Neo4j and Redis (no Docker needed).", no_args_is_help=True)
app.add_typer(services_app, name="services")
console = Console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


@services_app.command("up")
def services_up() -> None:
    """Fetch Neo4j if needed and start Neo4j and Redis on loopback."""
    settings = get_settings()
    try:
        for service in (neo4j_service, redis_service):
            st = service.start(settings)
            console.print(f"[green]{st.name}[/] running (pid {st.pid}) at {st.address}")
    except ServiceError as exc:
        raise _fail(str(exc)) from None


@services_app.command("down")
def services_down() -> None:
    """Stop the Neo4j and Redis that `services up` started (by their PID files)."""
    settings = get_settings()
    for name, service in (("neo4j", neo4j_service), ("redis", redis_service)):
        stopped = service.stop(settings)
        console.print(f"{name}: {'stopped' if stopped else 'was not running'}")


@services_app.command("status")
def services_status() -> None:
    """Show whether our Neo4j and Redis run; exits 1 if either does not."""
    settings = get_settings()
    table = Table("service", "state", "pid", "address", "detail")
    statuses = [neo4j_service.status(settings), redis_service.status(settings)]
    for st in statuses:
        state = "[green]running[/]" if st.running else "[red]stopped[/]"
        table.add_row(st.name, state, str(st.pid or "-"), st.address, st.detail)
    console.print(table)
    if not all(st.running for st in statuses):
        raise typer.Exit(code=1)


SchemaOption = Annotated[
    Path | None, typer.Option("--schema", help="Graph schema YAML (default: the built-in schema)")
]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
