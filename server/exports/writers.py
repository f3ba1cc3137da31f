"""Where an export's rows go, a batch at a time (memory stays constant however large the
segment):

- `StagedFile`s (CSV, Parquet) write to a hidden temp file beside the target and only appear
  under their final name when `publish` renames them (atomic on one file system), so a failed
  run leaves nothing half-written.
- `JsonLinesPoster` POSTs each batch as JSON lines, retrying 5xx answers and connection
  trouble; the headers name the run, segment and chunk so a receiver can drop repeats.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from graph_schema.model import AttrType
from server.members_table import safe_cell

Row = Sequence[Any]  # key first, then the columns


class Sink(Protocol):
    async def write(self, rows: list[Row]) -> None: ...


class StagedFile:
    """A file written under a temp name and renamed into place by `publish`."""

    suffix = ""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.temp = target.with_name(f".{target.name}.partial")

    async def write(self, rows: list[Row]) -> None:
        await asyncio.to_thread(self._write, rows)

    def _write(self, rows: list[Row]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        raise NotImplementedError

    def publish(self) -> None:
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        try:
            self._close()
        finally:
            self.temp.unlink(missing_ok=True)


class CsvFile(StagedFile):
    """UTF-8 CSV with a header row; every cell formula-safe like members.csv."""

    suffix = ".csv"

    def __init__(self, target: Path, header: Sequence[str]) -> None:
        super().__init__(target)
        self.file: IO[str] | None = self.temp.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file)
        self.writer.writerow([safe_cell(h) for h in header])

    def _write(self, rows: list[Row]) -> None:
        self.writer.writerows([safe_cell(v) for v in row] for row in rows)

    def _close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


# Temporal values arrive as ISO text (as every member reader returns them).
ARROW_TYPES = {
    AttrType.STRING: pa.string(),
    AttrType.INTEGER: pa.int64(),
    AttrType.FLOAT: pa.float64(),
    AttrType.BOOLEAN: pa.bool_(),
    AttrType.DATE: pa.string(),
    AttrType.DATETIME: pa.string(),
}


class ParquetFile(StagedFile):
    """Parquet typed from the graph schema; each batch is one row group."""

    suffix = ".parquet"

    def __init__(self, target: Path, fields: Sequence[tuple[str, AttrType]]) -> None:
        super().__init__(target)
        self.schema = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in fields])
        self.writer: pq.ParquetWriter | None = pq.ParquetWriter(self.temp, self.schema)

    def _write(self, rows: list[Row]) -> None:
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(self.schema)
        table = pa.Table.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, self.schema, strict=True)],
            schema=self.schema,
        )
        assert self.writer is not None
        self.writer.write_table(table)

    def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class DeliveryFailed(Exception):
    """The endpoint refused a chunk, or kept failing after the retries."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpPolicy:
    timeout_s: float = 30.0
    tries: int = 4
    backoff_s: float = 1.0  # doubled after each failed try


class JsonLinesPoster:
    """POSTs batches of one segment as `application/x-ndjson`, one object per member."""

    def __init__(
        self, client: httpx.AsyncClient, url: str, header: Sequence[str],
        headers: dict[str, str], policy: HttpPolicy,
    ) -> None:  # fmt: skip
        self.client, self.url, self.header, self.policy = client, url, list(header), policy
        self.headers = headers
        self.chunk = 0

    async def write(self, rows: list[Row]) -> None:
        body = "".join(
            json.dumps(dict(zip(self.header, row, strict=True)), default=str) + "\n" for row in rows
        ).encode()
        headers = self.headers | {"content-type": "application/x-ndjson",
                                  "x-export-chunk": str(self.chunk)}  # fmt: skip
        await self._post(body, headers)
        self.chunk += 1

    async def _post(self, body: bytes, headers: dict[str, str]) -> None:
        delay = self.policy.backoff_s
        for attempt in range(1, self.policy.tries + 1):
            try:
                response = await self.client.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 300:
                    return
                problem = f"HTTP {response.status_code}"
                if response.status_code < 500:  # the endpoint refused it: retrying won't help
                    raise DeliveryFailed(f"chunk {self.chunk}: {problem}")
            if attempt < self.policy.tries:
                await asyncio.sleep(delay)
                delay *= 2
        raise DeliveryFailed(f"chunk {self.chunk}: {problem} after {self.policy.tries} tries")
