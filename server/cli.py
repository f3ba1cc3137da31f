"""The `segments` command: services, import, demo data, API server and workers."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from graph_schema import GraphSchema, SchemaError, default_schema, load_schema, quote_identifier
from graph_schema.import_report import DataImportError
from server.keys_cli import keys_app
from server.services import ServiceError
from server.services import neo4j as neo4j_service
from server.services import redis as redis_service
from server.settings import Settings, get_settings

if TYPE_CHECKING:
    import neo4j

app = typer.Typer(help="Customer segmentation engine on Neo4j.", no_args_is_help=True)
services_app = typer.Typer(help="Local Neo4j and Redis (no Docker needed).", no_args_is_help=True)
app.add_typer(services_app, name="services")
app.add_typer(keys_app, name="keys")
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


def _schema(path: Path | None) -> GraphSchema:
    try:
        return load_schema(path) if path else default_schema()
    except SchemaError as exc:
        raise _fail(str(exc)) from None


def _driver(settings: Settings) -> neo4j.Driver:
    import neo4j

    driver = neo4j.GraphDatabase.driver(
        settings.neo4j_uri,
        auth=(settings.neo4j_user, settings.neo4j_password),
        # "label does not exist" hints before the first import are noise on a terminal.
        notifications_min_severity="OFF",
    )
    try:
        driver.verify_connectivity()
    except Exception as exc:
        msg = f"Neo4j is not reachable at {settings.neo4j_uri}: {exc} (./dev services up)"
        raise _fail(msg) from None
    return driver


def _run_import(settings: Settings, schema: GraphSchema, directory: Path, *, strict: bool) -> None:
    from graph_schema.importer import import_directory
    from server.import_progress import ImportProgressBar, print_problems

    with _driver(settings) as driver, ImportProgressBar(console) as bar:
        try:
            report = import_directory(driver, schema, directory, strict=strict, progress=bar.update)
        except DataImportError as exc:
            msg = f"strict import stopped at {exc.bad_row}; nothing of that batch written"
            raise _fail(msg) from None
    print_problems(console, report)
    console.print(
        f"imported in {report.seconds:.1f}s ([bold]{report.rows_per_second:,.0f} rows/s[/]): "
        f"{report.summary()}"
    )


BulkOption = Annotated[
    bool,
    typer.Option(
        "--bulk",
        help="first load of an EMPTY database with Neo4j's offline importer (much faster; "
        "stops and restarts our Neo4j)",
    ),
]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="with --bulk: delete the current graph, then bulk load")
]


def _load(
    settings: Settings, schema: GraphSchema, directory: Path, *, strict: bool, bulk: bool,
    replace: bool,
) -> None:  # fmt: skip
    if replace and not bulk:
        raise _fail("--replace goes with --bulk")
    if bulk:
        from server.bulk_cli import run_bulk_import

        run_bulk_import(console, settings, schema, directory, strict=strict, replace=replace)
    else:
        _run_import(settings, schema, directory, strict=strict)


@app.command("import")
def import_command(
    directory: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="CSV folder")],
    schema: SchemaOption = None,
    strict: Annotated[bool, typer.Option(help="abort at the first bad row")] = False,
    bulk: BulkOption = False,
    replace: ReplaceOption = False,
) -> None:
    """Import a folder of CSV files described by a graph schema (idempotent: upserts by key)."""
    _load(get_settings(), _schema(schema), directory, strict=strict, bulk=bulk, replace=replace)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=1, help="number of customers")] = 10_000,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same data")] = 0,
    out: Annotated[Path | None, typer.Option(help="CSV folder (default .data/demo-N-S)")] = None,
    bulk: BulkOption = False,
    replace: ReplaceOption = False,
) -> None:
    """Generate the demo dataset as CSV files and import it with the default schema."""
    from graph_schema.demo import generate_demo

    settings = get_settings()
    folder = out or settings.data_dir / f"demo-{customers}-{seed}"
    with console.status(f"generating {customers:,} customers (seed {seed}) into {folder}"):
        summary = generate_demo(folder, customers=customers, seed=seed)
    console.print(f"generated {summary}")
    _load(settings, default_schema(), folder, strict=False, bulk=bulk, replace=replace)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default API_PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="API processes (default API_WORKERS)")
    ] = None,
) -> None:
    """Serve the GraphQL API."""
    import uvicorn

    from server.app import create_app

    settings = get_settings()
    count = workers or settings.api_workers
    bind, number = host or settings.api_host, port or settings.api_port
    run = functools.partial(uvicorn.run, host=bind, port=number,
                            timeout_keep_alive=settings.api_keep_alive_s,
                            access_log=settings.api_access_log)  # fmt: skip
    if count == 1:
        run(create_app(settings))
    else:  # each process builds its own app from the environment
        run("server.app:app_from_environment", factory=True, workers=count)


@app.command()
def worker() -> None:
    """Run an arq worker (refresh and import jobs); it waits out Redis outages."""
    from server.worker import WorkerSettings
    from server.worker_loop import run_worker

    run_worker(WorkerSettings)


@app.command()
def up(
    customers: Annotated[int, typer.Option(help="demo customers, if the graph is empty")] = 10_000,
    seed: Annotated[int, typer.Option(help="demo seed")] = 0,
) -> None:
    """Services + demo data (when the graph has no profiles) + a worker + the API, in one go."""
    services_up()
    settings = get_settings()
    schema = default_schema() if settings.schema_file is None else _schema(settings.schema_file)
    with _driver(settings) as driver:
        profiles = count_profiles(driver, schema)
    if profiles == 0:
        demo(customers=customers, seed=seed, out=None)
    else:
        console.print(f"the graph already holds {profiles:,} profiles: skipping demo data")
    worker_proc = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"])
    console.print(
        f"[bold green]GraphQL API:[/] http://{settings.api_host}:{settings.api_port}/graphql"
        f"  [bold green]console:[/] http://{settings.api_host}:{settings.api_port}/console/"
        f"  (worker pid {worker_proc.pid}; Ctrl-C stops API and worker, "
        "`./dev services down` stops Neo4j and Redis)"
    )
    try:
        serve(host=None, port=None)
    finally:
        worker_proc.terminate()
        worker_proc.wait(timeout=30)


def count_profiles(driver: neo4j.Driver, schema: GraphSchema) -> int:
    total = 0
    for entity in schema.profiles:
        records, _, _ = driver.execute_query(
            f"MATCH (n:{quote_identifier(entity.label)}) RETURN count(n) AS c"
        )
        total += int(records[0]["c"])
    return total


def main() -> None:
    app()


if __name__ == "__main__":
    main()
