"""A rich progress bar for imports (one task per file, with rows/s) and the report's problems."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from graph_schema.import_report import ImportProgress, ImportReport


def print_problems(console: Console, report: ImportReport) -> None:
    """The bad rows an import skipped (the first ones, then how many more) and missing files."""
    for bad in report.bad_rows:
        console.print(f"[yellow]skipped[/] {bad}", highlight=False)
    more = report.bad_row_count - len(report.bad_rows)
    if more > 0:
        console.print(f"[yellow]... and {more} more bad rows[/]")
    for missing in report.missing_files:
        console.print(f"[yellow]missing file[/] {missing}")


class ImportProgressBar:
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>12} rows/s"),
            TimeElapsedColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ImportProgressBar:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def update(self, event: ImportProgress) -> None:
        task = self._tasks.get(event.file)
        if task is None:
            label = f"{event.file_index + 1}/{event.files_total} {event.name} ({event.file})"
            task = self._progress.add_task(label, total=event.rows_total, rate="")
            self._tasks[event.file] = task
        rate = f"{event.rows_done / event.seconds:,.0f}" if event.seconds > 0 else ""
        self._progress.update(task, completed=event.rows_done, total=event.rows_total, rate=rate)
