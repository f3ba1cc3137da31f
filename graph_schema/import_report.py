"""What an import reports: progress while it runs, and a summary with the bad rows at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class FileKind(StrEnum):
    NODES = "nodes"
    RELATIONSHIPS = "relationships"


@dataclass(frozen=True, slots=True)
class BadRow:
    """A skipped row; `line` is where the row starts in the file, `column` is 1-based."""

    file: str
    line: int
    column: int | None
    column_name: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        name = f" ({self.column_name})" if self.column_name else ""
        return f"{where}{name}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Sent after each batch; `rows_total` is estimated from line count until the file ends."""

    file: str
    kind: FileKind
    name: str  # entity name or relationship type
    rows_done: int
    rows_total: int
    seconds: float  # since this file started
    file_index: int  # 0-based, of `files_total`
    files_total: int


ProgressCallback = Callable[[ImportProgress], None]


@dataclass(frozen=True, slots=True)
class FileReport:
    file: str
    kind: FileKind
    name: str
    rows: int  # data rows read
    written: int  # rows upserted
    bad: int  # rows reported and skipped
    skipped: int  # rows with an empty foreign key: no relationship to create, not an error
    seconds: float
    linked: tuple[str, ...] = ()  # relationship types merged along with this file's nodes
    relationships: int = 0  # relationships merged along with the nodes


@dataclass(frozen=True, slots=True)
class ImportReport:
    files: tuple[FileReport, ...]
    bad_rows: tuple[BadRow, ...]  # the first `max_bad_rows`; `bad_row_count` has them all
    bad_row_count: int
    missing_files: tuple[str, ...]
    constraints: tuple[str, ...]  # names ensured before loading
    indexes: tuple[str, ...]
    seconds: float

    @property
    def rows(self) -> int:
        """Data rows read, summed over passes: a file with its own relationship pass counts
        again there (foreign keys merged with their node batch do not)."""
        return sum(f.rows for f in self.files)

    @property
    def written(self) -> int:
        """Rows upserted (bad rows and rows with nothing to link are not)."""
        return sum(f.written for f in self.files)

    def summary(self) -> str:
        """What happened to the rows read, for the end of an import's output."""
        bad = self.bad_row_count
        return (f"{self.rows:,} rows read, {self.written:,} written, "
                f"{bad:,} bad row{'' if bad == 1 else 's'} skipped")  # fmt: skip

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        return self.bad_row_count == 0 and not self.missing_files


class DataImportError(Exception):
    """Raised by a strict import at the first bad row (or missing file / key column)."""

    def __init__(self, bad_row: BadRow) -> None:
        self.bad_row = bad_row
        super().__init__(str(bad_row))

    def __reduce__(self) -> tuple[type[DataImportError], tuple[BadRow]]:
        # Raised in the bulk import's worker processes: crosses back whole, not as its text.
        return (DataImportError, (self.bad_row,))
