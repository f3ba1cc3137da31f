"""One run of one export: read each carried segment's active members in keyset batches and
hand them to the destination; record the outcome on the run.

Folder destinations stage every segment's file first and rename them all into place only
when every segment was written, so a failed run leaves no file behind:
`<root>/<path>/<export name>/<segment name>/<run id>.csv|.parquet`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from graph_schema.model import AttrType, Entity, GraphSchema
from server.exports import runs
from server.exports.paths import check_inside, confine
from server.exports.records import (
    CarriedSegment,
    DestinationKind,
    ExportRecord,
    ExportRunRecord,
    ExportRunStatus,
    RunSegment,
)
from server.exports.writers import (
    CsvFile,
    HttpPolicy,
    JsonLinesPoster,
    ParquetFile,
    Sink,
    StagedFile,
)
from server.members_table import resolve_columns
from server.outgoing import OutgoingPolicy, RefusedUrl, check_outgoing
from server.settings import get_settings
from server.store.db import Db
from server.store.members import member_batches


class ExportError(Exception):
    """The export cannot run as configured (no segments, unknown columns, mixed audiences)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportEnv:
    db: Db
    schema: GraphSchema
    root: Path  # folder destinations are confined under it
    batch_size: int = 5000
    http: HttpPolicy = field(default_factory=HttpPolicy)
    # URLs it may call; by default from the settings (loopback allowed outside production)
    outgoing: OutgoingPolicy = field(default_factory=lambda: OutgoingPolicy.from_settings(
        get_settings()))  # fmt: skip
    clock: Callable[[], datetime] = _utc_now


@dataclass(frozen=True, slots=True)
class _Plan:
    export: ExportRecord
    run: ExportRunRecord
    entity: Entity
    columns: tuple[str, ...]

    @property
    def header(self) -> list[str]:
        return ["key", *self.columns]


async def run_export(env: ExportEnv, run_id: str) -> ExportRunRecord | None:
    """Run a queued run to its end (SUCCEEDED or FAILED, with the error). None when the run is
    finished or gone (a repeated job). Re-raises cancellation after recording it."""
    started = await runs.start_run(env.db, run_id, env.clock())
    if started is None:
        return None
    export, run = started
    try:
        written = await _write(env, _plan(env, export, run))
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):  # best effort: the run is being torn down
            await _finish(env, run_id, [], "interrupted (job timeout or shutdown)")
        raise
    except Exception as exc:
        await _finish(env, run_id, [], f"{type(exc).__name__}: {exc}"[:2000])
    else:
        await _finish(env, run_id, written, None)
    return await runs.get_run(env.db, run_id)


async def _finish(
    env: ExportEnv, run_id: str, written: list[RunSegment], error: str | None
) -> None:
    status = ExportRunStatus.FAILED if error else ExportRunStatus.SUCCEEDED
    await asyncio.shield(runs.finish_run(env.db, run_id, status, written, error, env.clock()))


def _plan(env: ExportEnv, export: ExportRecord, run: ExportRunRecord) -> _Plan:
    """Check the export against the schema as it is now. Raises ExportError."""
    if not export.segments:
        raise ExportError("the export carries no segment")
    audiences = {s.audience for s in export.segments}
    if len(audiences) != 1:
        raise ExportError(f"the segments select different audiences: {sorted(audiences)}")
    entity = env.schema.entity(audiences.pop())
    if entity is None:
        raise ExportError("the segments' audience is not in the graph schema")
    columns = resolve_columns(entity, export.columns)
    if columns.unknown:
        unknown = [export.columns[i] for i in columns.unknown] if export.columns else []
        raise ExportError(f"not attributes of {entity.name}: {unknown}")
    return _Plan(export, run, entity, columns.names)


async def _write(env: ExportEnv, plan: _Plan) -> list[RunSegment]:
    if plan.export.destination.kind.folder:
        return await _write_files(env, plan)
    return await _post_all(env, plan)


async def _stream(env: ExportEnv, plan: _Plan, segment: CarriedSegment, sink: Sink) -> int:
    """Hand every member of the segment's active version to `sink`; returns the row count."""
    count = 0
    async for batch in member_batches(env.db, segment.id, env.batch_size):
        await sink.write([[m.key, *(m.properties.get(c) for c in plan.columns)] for m in batch])
        count += len(batch)
    return count


def _staged(env: ExportEnv, plan: _Plan, segment: CarriedSegment) -> StagedFile:
    destination = plan.export.destination
    folder = confine(env.root, destination.path or ".", plan.export.name, segment.name)
    folder.mkdir(parents=True, exist_ok=True)
    check_inside(env.root, folder)  # still inside once created (no symlink swapped in)
    if destination.kind is DestinationKind.FOLDER_PARQUET:
        return ParquetFile(folder / f"{plan.run.id}.parquet", _typed(plan))
    return CsvFile(folder / f"{plan.run.id}.csv", plan.header)


def _typed(plan: _Plan) -> list[tuple[str, AttrType]]:
    """Each column with its schema type (the key first)."""
    attributes = [plan.entity.attribute(c) for c in plan.columns]
    types = [a.type for a in attributes if a is not None]
    return list(zip(plan.header, [plan.entity.key_attribute.type, *types], strict=True))


async def _write_files(env: ExportEnv, plan: _Plan) -> list[RunSegment]:
    staged: list[StagedFile] = []
    written: list[RunSegment] = []
    try:
        for segment in plan.export.segments:
            staged.append(file := _staged(env, plan, segment))
            count = await _stream(env, plan, segment, file)
            await file.close()
            relative = str(file.target.relative_to(env.root.resolve()))
            written.append(RunSegment(segment_id=segment.id, name=segment.name, rows=count,
                                      file=relative))  # fmt: skip
    except BaseException:
        for file in staged:
            with contextlib.suppress(Exception):
                file.discard()
        raise
    for file in staged:
        file.publish()
    return written


async def _post_all(env: ExportEnv, plan: _Plan) -> list[RunSegment]:
    destination = plan.export.destination
    assert destination.url is not None
    try:  # checked when saved; again now, as a name may resolve elsewhere by now
        await check_outgoing(destination.url, env.outgoing)
    except RefusedUrl as exc:
        raise ExportError(str(exc)) from None
    written: list[RunSegment] = []
    async with httpx.AsyncClient(timeout=env.http.timeout_s) as client:
        for segment in plan.export.segments:
            headers = dict(destination.headers) | {
                "x-export-name": plan.export.name, "x-export-run": plan.run.id,
                "x-export-segment": segment.name,
            }  # fmt: skip
            poster = JsonLinesPoster(client, destination.url, plan.header, headers, env.http)
            count = await _stream(env, plan, segment, poster)
            written.append(RunSegment(segment_id=segment.id, name=segment.name, rows=count,
                                      file=None))  # fmt: skip
    return written
