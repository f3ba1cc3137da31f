"""`segments import --bulk`: the offline importer with progress and our import report."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from rich.console import Console

from graph_schema.import_report import DataImportError, ImportReport
from graph_schema.model import GraphSchema
from server.bulk_import import BulkImportError, BulkTiming, bulk_import
from server.import_progress import ImportProgressBar, print_problems
from server.settings import Settings

# The importer prints a stage header, then a row of dots per 5%: show headers and every 25%.
_STAGE = re.compile(r"^\(\d/\d\) |COMPLETED|^IMPORT (DONE|FAILED)|^Imported:|^\s+\d+ \w+$")
_PERCENT = re.compile(r"\s(25|50|75|100)% ")


class _AdminLines:
    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, line: str) -> None:
        if _STAGE.search(line) or _PERCENT.search(line):
            self.console.print(f"[dim]neo4j-admin[/] {line.strip()}", highlight=False)


def run_bulk_import(
    console: Console,
    settings: Settings,
    schema: GraphSchema,
    directory: Path,
    *,
    strict: bool,
    replace: bool,
) -> None:
    """Raises typer.Exit(1) with a clear message when the import cannot run or fails."""
    try:
        with ImportProgressBar(console) as bar:
            console.print("converting CSV files for the offline importer")
            report, timing = bulk_import(
                settings, schema, directory, replace_data=replace, strict=strict,
                progress=bar.update, on_line=_AdminLines(console),
            )  # fmt: skip
    except (BulkImportError, DataImportError) as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(code=1) from None
    _print_report(console, report, timing)


def _print_report(console: Console, report: ImportReport, timing: BulkTiming) -> None:
    print_problems(console, report)
    console.print(
        f"bulk imported in {report.seconds:.1f}s "
        f"([bold]{report.rows_per_second:,.0f} rows/s[/]; convert {timing.prepare:.1f}s, "
        f"neo4j-admin {timing.admin:.1f}s, restart {timing.restart:.1f}s, "
        f"indexes {timing.schema:.1f}s): {report.summary()}"
    )
