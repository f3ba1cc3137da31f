"""A first load of an empty graph with Neo4j's offline importer (2.4x the transactional import at
100k customers on a loaded machine; see docs/benchmarks.md).

Steps: refuse a non-empty database (unless `replace`), convert the CSVs into the importer's input
(graph_schema.bulk_input: same validation and converters as the transactional import), stop our
Neo4j, run `neo4j-admin database import full`, start Neo4j again, then create the schema's
constraints and indexes with the transactional importer's own code, so everything afterwards
sees the same graph either way.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import neo4j

from graph_schema.bulk_input import BulkInput, write_bulk_input
from graph_schema.bulk_report import read_report
from graph_schema.import_report import (
    BadRow,
    DataImportError,
    FileReport,
    ImportReport,
    ProgressCallback,
)
from graph_schema.importer import DEFAULT_MAX_BAD_ROWS, ensure_graph_schema
from graph_schema.model import GraphSchema
from server.services import neo4j as neo4j_service
from server.services.neo4j_admin import AdminImport, discard_store, run_import, store_exists
from server.services.process import ServiceError
from server.settings import Settings

LineCallback = Callable[[str], None]


class BulkImportError(Exception):
    """The bulk import cannot run here (not empty, not our Neo4j) or its importer failed."""


@dataclass(frozen=True, slots=True)
class BulkTiming:
    prepare: float  # CSV conversion
    admin: float  # neo4j-admin, Neo4j stopped
    restart: float  # stop + start of Neo4j
    schema: float  # constraints and indexes built and online


def _driver(settings: Settings) -> neo4j.Driver:
    auth = (settings.neo4j_user, settings.neo4j_password)
    return neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth)


def require_bulk_target(settings: Settings, *, replace_data: bool) -> bool:
    """Whether our Neo4j runs now; raises BulkImportError unless it is ours and (without
    `replace_data`) empty. A stopped Neo4j qualifies only before its first start (no store)."""
    status = neo4j_service.status(settings)
    if status.detail:  # something else answers on NEO4J_URI: not ours to stop or load
        raise BulkImportError(f"cannot bulk load {settings.neo4j_uri}: {status.detail}")
    if not status.running:
        if replace_data or not store_exists(settings):
            return False
        msg = (
            "the bulk import needs our Neo4j running to check that its database is empty: "
            f"`segments services up` (NEO4J_URI {settings.neo4j_uri}), or --replace"
        )
        raise BulkImportError(msg)
    if not replace_data:
        _require_empty(settings)
    return True


def _require_empty(settings: Settings) -> None:
    with _driver(settings) as driver:
        records = driver.execute_query(
            "MATCH (n) RETURN count(n) AS c", database_=settings.neo4j_database
        ).records
    nodes = int(records[0]["c"])
    if nodes:
        msg = (
            f"the database holds {nodes:,} nodes: --bulk only loads an empty database. Use the "
            "transactional import to add data, or --replace to delete everything and bulk load"
        )
        raise BulkImportError(msg)


def bulk_import(
    settings: Settings,
    schema: GraphSchema,
    directory: str | Path,
    *,
    replace_data: bool = False,
    strict: bool = False,
    progress: ProgressCallback | None = None,
    on_line: LineCallback | None = None,
    max_bad_rows: int = DEFAULT_MAX_BAD_ROWS,
) -> tuple[ImportReport, BulkTiming]:
    """Load `directory` into an empty graph with the offline importer.

    Raises BulkImportError (wrong target, importer failure: Neo4j is restarted either way) and
    DataImportError (strict, at the first bad row, before Neo4j is touched).
    """
    started = time.perf_counter()
    running = require_bulk_target(settings, replace_data=replace_data)
    work = settings.data_dir / "bulk-import"
    shutil.rmtree(work, ignore_errors=True)
    try:
        prepared = write_bulk_input(
            schema, directory, work / "input", strict=strict, max_bad_rows=max_bad_rows,
            progress=progress,
        )  # fmt: skip
        prepare = time.perf_counter() - started
        job = AdminImport(prepared.files, work / "import.report", strict)
        try:
            admin, restart = _swap_store(settings, job, on_line or (lambda _: None), running)
        except BulkImportError:
            _raise_first_bad(job, schema, Path(directory), prepared, strict)
            raise
        schema_started = time.perf_counter()
        with _driver(settings) as driver, driver.session(database=settings.neo4j_database) as s:
            constraints, indexes = ensure_graph_schema(s, schema)
            s.run("CALL db.resampleOutdatedIndexes()").consume()
        timing = BulkTiming(prepare, admin, restart, time.perf_counter() - schema_started)
        report = _report(prepared, job, schema, Path(directory), max_bad_rows, strict)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started
    return replace(report, constraints=constraints, indexes=indexes, seconds=seconds), timing


def _swap_store(
    settings: Settings, job: AdminImport, on_line: LineCallback, running: bool
) -> tuple[float, float]:
    """Stop Neo4j, run the importer, start Neo4j again (also when the importer failed, then
    with an empty database: the target was empty or `--replace` gave it up)."""
    t0 = time.perf_counter()
    if running and not neo4j_service.stop(settings):
        raise BulkImportError(f"could not stop our Neo4j for {settings.neo4j_uri}")
    t1 = time.perf_counter()
    failure: ServiceError | None = None
    try:
        run_import(settings, job, on_line)
    except ServiceError as exc:
        failure = exc
        discard_store(settings)
    t2 = time.perf_counter()
    try:
        neo4j_service.start(settings)
    except ServiceError as exc:
        raise BulkImportError(f"Neo4j did not start after the bulk import: {exc}") from None
    if failure is not None:
        raise BulkImportError(str(failure))
    return t2 - t1, (t1 - t0) + (time.perf_counter() - t2)


def _raise_first_bad(
    job: AdminImport, schema: GraphSchema, directory: Path, prepared: BulkInput, strict: bool
) -> None:
    """A strict import stops at the importer's first bad entry: say which row it was."""
    if strict:
        found, *_ = read_report(job.report_file, schema, directory, prepared.source_of, 1)
        if found:
            raise DataImportError(found[0])


def _report(
    prepared: BulkInput,
    job: AdminImport,
    schema: GraphSchema,
    directory: Path,
    limit: int,
    strict: bool,
) -> ImportReport:
    """Our bad rows plus the importer's (duplicate keys, unknown relationship ends)."""
    found, count, per_file = read_report(
        job.report_file, schema, directory, prepared.source_of, limit
    )
    if found and strict:
        raise DataImportError(found[0])
    bad: list[BadRow] = [*prepared.bad, *found][:limit]
    files = tuple(_with_bad(r, per_file) for r in prepared.reports)
    return ImportReport(
        files=files,
        bad_rows=tuple(bad),
        bad_row_count=prepared.bad_count + count,
        missing_files=tuple(prepared.missing),
        constraints=(),
        indexes=(),
        seconds=0.0,
    )


def _with_bad(report: FileReport, per_file: dict[str, int]) -> FileReport:
    extra = per_file.pop(report.file, 0)
    if not extra:
        return report
    return replace(report, bad=report.bad + extra)
