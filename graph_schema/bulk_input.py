"""Turn a CSV folder into the input of Neo4j's offline importer (`neo4j-admin database import`).

Every cell goes through the same converters as the transactional import (graph_schema.convert),
so values, empty cells and datetimes come out identical; the typed headers (`n:long`,
`d:datetime`, ...) make the importer store the same Cypher types. Files are streamed batch by
batch: a 46M-row folder is never held in memory.

Each entity file gets `:ID(<Entity>)` (not stored) before its columns, holding the key exactly as
converted, and each relationship file `:START_ID(<Entity>)`/`:END_ID(<Entity>)` from the join
columns the schema declares, written the same way so both sides of a join spell keys alike.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field, replace
from multiprocessing.queues import Queue
from operator import itemgetter
from pathlib import Path
from typing import Any

from graph_schema.csv_batches import (
    Batch,
    Column,
    FilePlan,
    PlanError,
    count_rows,
    plan_entity,
    plan_relationship,
    read_batches,
    read_header,
)
from graph_schema.import_plan import Link, plan_load
from graph_schema.import_report import (
    BadRow,
    DataImportError,
    FileKind,
    FileReport,
    ImportProgress,
    ProgressCallback,
)
from graph_schema.model import AttrType, Entity, GraphSchema, Relationship
from graph_schema.prefetch import prefetch

BATCH_SIZE = 50_000

# The importer's names for our attribute types; a string column needs none.
IMPORT_TYPES: dict[AttrType, str] = {
    AttrType.STRING: "",
    AttrType.INTEGER: ":long",
    AttrType.FLOAT: ":double",
    AttrType.BOOLEAN: ":boolean",
    AttrType.DATE: ":date",
    AttrType.DATETIME: ":datetime",
}


@dataclass(frozen=True, slots=True)
class ImportFile:
    """One file for the importer: `--nodes=<label>=<path>` or `--relationships=<type>=<path>`."""

    kind: FileKind
    name: str  # label or relationship type
    path: Path
    rows: int
    multiline: bool  # some value holds a newline: the importer must parse this file slowly


@dataclass(slots=True)
class BulkInput:
    """What `write_bulk_input` produced: the importer's files and what the CSVs held."""

    files: list[ImportFile] = field(default_factory=list)
    reports: list[FileReport] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    bad_count: int = 0
    missing: list[str] = field(default_factory=list)
    source_of: dict[str, str] = field(default_factory=dict)  # entity / type -> source CSV

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.reports)


@dataclass(slots=True)
class _Writers:
    """The output files of one source file: its nodes and one file per relationship."""

    out: Path
    stack: ExitStack
    files: dict[str, tuple[Any, Path, int]] = field(default_factory=dict)

    def open(self, key: str, header: Sequence[str]) -> None:
        path = self.out / f"{len(self.files):02d}-{key}.csv"
        handle = self.stack.enter_context(path.open("w", newline="", encoding="utf-8"))
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        self.files[key] = (writer, path, 0)

    def write(self, key: str, rows: Sequence[Sequence[object]]) -> None:
        writer, path, count = self.files[key]
        writer.writerows(rows)
        self.files[key] = (writer, path, count + len(rows))


def _typed(column: Column) -> str:
    return column.name + IMPORT_TYPES[column.type]


# csv writes None as an empty cell (absent, as in the transactional import) and floats by repr
# (exact); only booleans need spelling out (see _boolean_speller).
def _id(kind: str, entity: Entity) -> str:
    return f":{kind}({entity.name})"


@dataclass(frozen=True, slots=True)
class _Context:
    """What every file's conversion needs (sent to each worker process once per file)."""

    schema: GraphSchema
    root: Path
    out: Path
    strict: bool
    max_bad_rows: int
    batch_size: int
    total_files: int


@dataclass(frozen=True, slots=True)
class _Task:
    index: int  # in the plan's order: reports, files and bad rows are merged in this order
    item: Entity | Relationship
    links: tuple[Link, ...]
    ignore: frozenset[int] = frozenset()  # lines of this file that were bad entity rows


@dataclass(slots=True)
class _Converted:
    """One source file's share of a BulkInput."""

    index: int
    report: FileReport
    files: list[ImportFile] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    bad_count: int = 0
    bad_lines: set[int] = field(default_factory=set)

    def report_bad(self, rows: list[BadRow], context: _Context) -> None:
        if rows and context.strict:
            raise DataImportError(rows[0])
        self.bad_count += len(rows)
        room = max(0, context.max_bad_rows - len(self.bad))
        self.bad.extend(rows[:room])


def write_bulk_input(
    schema: GraphSchema,
    directory: str | Path,
    out: str | Path,
    *,
    strict: bool = False,
    max_bad_rows: int = 1_000,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> BulkInput:
    """Validate and convert the CSV files the schema names in `directory` into `out`.

    Bad rows are reported and left out, as the transactional import does; with `strict` the first
    one (or a missing file) raises DataImportError. Unknown relationship ends and duplicate keys
    are found later, by the importer itself.

    Files are converted in `workers` processes (by default one per core once the folder is big
    enough to pay for starting them): the conversion is pure Python, one core per file. The
    result is the same whatever the number: merged in the plan's order, the first bad row of a
    strict run is the one a sequential run would stop at.
    """
    root, target = Path(directory), Path(out)
    target.mkdir(parents=True, exist_ok=True)
    result = BulkInput()
    named = {e.csv for e in schema.entities if e.csv} | {
        r.csv for r in schema.relationships if r.csv
    }
    result.missing = sorted(n for n in named if not (root / n).is_file())
    if result.missing and strict:
        raise DataImportError(BadRow(result.missing[0], 0, None, None, "file not found"))
    headers = {n: read_header(root / n) for n in named if n not in result.missing}
    plan = plan_load(schema, headers)
    items: list[tuple[Entity | Relationship, tuple[Link, ...]]] = [
        (e, links) for e, links in plan.entities if e.csv
    ]
    items += [(r, ()) for r in plan.relationships if r.csv and r.csv not in result.missing]
    context = _Context(schema, root, target, strict, max_bad_rows, batch_size, len(items))
    tasks = [_Task(i, item, links) for i, (item, links) in enumerate(items)]
    # A relationship file that is also an entity's file skips the rows that were bad entities:
    # it waits for that entity's file; every other file is converted in the first wave.
    entity_files = {item.csv for item, _ in items if isinstance(item, Entity)}
    waits = [t for t in tasks if isinstance(t.item, Relationship) and t.item.csv in entity_files]
    waiting = {t.index for t in waits}
    first = [t for t in tasks if t.index not in waiting]
    sizes = {t.index: (root / str(t.item.csv)).stat().st_size for t in tasks}
    pool_size = _pool_size(workers, len(tasks), sum(sizes.values()))
    with _converter(context, pool_size, progress) as convert:
        done = convert(first, sizes)
        bad_lines: dict[str, set[int]] = {}
        for converted in done:
            item = tasks[converted.index].item
            if isinstance(item, Entity) and item.csv:
                bad_lines.setdefault(item.csv, set()).update(converted.bad_lines)
        second = [replace(t, ignore=frozenset(bad_lines.get(str(t.item.csv), ()))) for t in waits]
        done += convert(second, sizes)
    for converted in sorted(done, key=lambda c: c.index):
        item, links = items[converted.index]
        _merge(result, converted, item, links, max_bad_rows)
    return result


# Below this much CSV the processes' start (about a second) costs more than it saves.
POOL_MIN_BYTES = 64 * 1024 * 1024


def _pool_size(workers: int | None, tasks: int, total_bytes: int) -> int:
    if workers is None:
        workers = (os.cpu_count() or 1) if total_bytes >= POOL_MIN_BYTES else 1
    return max(1, min(workers, tasks))


def _merge(
    result: BulkInput,
    converted: _Converted,
    item: Entity | Relationship,
    links: Sequence[Link],
    max_bad_rows: int,
) -> None:
    assert item.csv is not None
    result.source_of[item.name if isinstance(item, Entity) else item.type] = item.csv
    for link in links:
        result.source_of[link.relationship.type] = item.csv
    result.files.extend(converted.files)
    result.reports.append(converted.report)
    result.bad_count += converted.bad_count
    result.bad.extend(converted.bad[: max(0, max_bad_rows - len(result.bad))])


Convert = Callable[[Sequence[_Task], dict[int, int]], list[_Converted]]


@contextmanager
def _converter(
    context: _Context, pool_size: int, progress: ProgressCallback | None
) -> Iterator[Convert]:
    """A function converting tasks, in this process or in a pool of `pool_size` processes
    whose progress events reach `progress` through a queue drained by a thread here."""
    if pool_size == 1:
        notify = progress or (lambda _: None)
        yield lambda tasks, _: [_convert(context, t, notify) for t in tasks]
        return
    spawn = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    events: Queue[ImportProgress | None] = spawn.Queue()
    drain = threading.Thread(target=_drain, args=(events, progress), daemon=True)
    drain.start()
    pool = ProcessPoolExecutor(pool_size, spawn, _worker_init, (events,))
    try:

        def convert(tasks: Sequence[_Task], sizes: dict[int, int]) -> list[_Converted]:
            # Largest first, so the last file to finish is a small one.
            ordered = sorted(tasks, key=lambda t: -sizes[t.index])
            futures = {t.index: pool.submit(_convert_in_worker, context, t) for t in ordered}
            # In the plan's order: a strict run raises the first bad row a sequential run would.
            return [futures[t.index].result() for t in sorted(tasks, key=lambda t: t.index)]

        yield convert
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        events.put(None)
        drain.join()


def _drain(events: Queue[ImportProgress | None], progress: ProgressCallback | None) -> None:
    while (event := events.get()) is not None:
        if progress:
            progress(event)


_events: Queue[ImportProgress | None] | None = None


def _worker_init(events: Queue[ImportProgress | None]) -> None:
    global _events
    _events = events


def _convert_in_worker(context: _Context, task: _Task) -> _Converted:
    events = _events
    assert events is not None
    return _convert(context, task, events.put)


def _plan(context: _Context, path: Path, task: _Task) -> FilePlan:
    header = read_header(path)
    if isinstance(task.item, Entity):
        return plan_entity(task.item, header, path.name, task.links)
    return plan_relationship(context.schema, task.item, header, path.name, task.ignore)


def _convert(
    context: _Context, task: _Task, notify: Callable[[ImportProgress], None]
) -> _Converted:
    item, links = task.item, task.links
    assert item.csv is not None
    path, started = context.root / item.csv, time.perf_counter()
    is_entity = isinstance(item, Entity)
    kind = FileKind.NODES if is_entity else FileKind.RELATIONSHIPS
    name = item.name if isinstance(item, Entity) else item.type
    total = count_rows(path)
    try:
        plan = _plan(context, path, task)
    except PlanError as exc:
        failed = _Converted(task.index, FileReport(path.name, kind, name, total, 0, total, 0, 0.0))
        failed.report_bad([exc.bad_row], context)
        return failed
    read = written = bad = skipped = linked = 0
    converted = _Converted(task.index, FileReport(path.name, kind, name, 0, 0, 0, 0, 0.0))

    def progress(rows_total: int) -> None:
        elapsed = time.perf_counter() - started
        notify(
            ImportProgress(
                path.name, kind, name, read, rows_total, elapsed, task.index, context.total_files
            )
        )

    progress(total)
    with ExitStack() as stack:
        writers = _Writers(context.out, stack)
        emit = _open_outputs(context, writers, item, plan, links)
        batches = stack.enter_context(
            closing(prefetch(read_batches(path, plan, context.batch_size)))
        )
        for batch in batches:
            converted.report_bad(batch.bad, context)
            if is_entity:
                converted.bad_lines.update(b.line for b in batch.bad)
            linked += emit(batch)
            read, written = read + batch.read, written + len(batch.rows)
            bad, skipped = bad + len(batch.bad), skipped + batch.skipped
            progress(max(total, read))
    converted.files = _registered(writers, item)
    progress(read)
    types = tuple(k.relationship.type for k in links)
    seconds = time.perf_counter() - started
    converted.report = FileReport(
        path.name, kind, name, read, written, bad, skipped, seconds, types, linked
    )
    return converted


def _open_outputs(
    context: _Context,
    writers: _Writers,
    item: Entity | Relationship,
    plan: FilePlan,
    links: Sequence[Link],
) -> Callable[[Batch], int]:
    """Open the output files and return the function that writes one batch to them."""
    spell = _boolean_speller(plan.columns)
    if isinstance(item, Relationship):
        source, target = (
            context.schema.require_entity(item.source),
            context.schema.require_entity(item.target),
        )
        header = [_id("START_ID", source), _id("END_ID", target)]
        writers.open(item.type, header + [_typed(c) for c in plan.columns[2:]])

        def emit_relationships(batch: Batch) -> int:
            writers.write(item.type, spell(batch.rows))
            return 0

        return emit_relationships
    node_columns, width = plan.columns[: plan.node_columns], plan.node_columns
    # A string key can be the ID column itself (stored as the property, with no copy); any
    # other key type needs an unstored ID column beside its typed property.
    own_id = item.key_attribute.type is AttrType.STRING
    key_header = f"{node_columns[0].name}:ID({item.name})" if own_id else _id("ID", item)
    rest = node_columns[1:] if own_id else node_columns
    writers.open(item.name, [key_header] + [_typed(c) for c in rest])
    getters = []
    for link, pos in zip(links, plan.links, strict=True):
        start, end = (link.anchor, item) if link.anchor_is_source else (item, link.anchor)
        ends = [_id("START_ID", start), _id("END_ID", end)]
        writers.open(
            link.relationship.type, ends + [_typed(plan.columns[p]) for p in pos.attributes]
        )
        order = (pos.anchor_key, 0) if link.anchor_is_source else (0, pos.anchor_key)
        getters.append(
            (link.relationship.type, pos.anchor_key, itemgetter(*order, *pos.attributes))
        )
    trim = len(plan.columns) > width

    def emit_nodes(batch: Batch) -> int:
        rows = spell(batch.rows)
        nodes = [r[:width] for r in rows] if trim else rows
        writers.write(item.name, nodes if own_id else [(r[0], *r) for r in nodes])
        count = 0
        for rel_type, anchor, get in getters:
            # An empty foreign key: no relationship, as in the transactional import.
            linked = [get(r) for r in rows if r[anchor] is not None]
            writers.write(rel_type, linked)
            count += len(linked)
        return count

    return emit_nodes


_SPELLING: dict[object, str | None] = {True: "true", False: "false", None: None}


def _boolean_speller(
    columns: Sequence[Column],
) -> Callable[[list[Sequence[object]]], list[Sequence[object]]]:
    """csv writes True as `True`, which the importer reads as false: spell booleans out."""
    positions = [i for i, c in enumerate(columns) if c.type is AttrType.BOOLEAN]
    if not positions:
        return lambda rows: rows

    def spell(rows: list[Sequence[object]]) -> list[Sequence[object]]:
        out: list[Sequence[object]] = []
        for row in rows:
            cells = list(row)
            for i in positions:
                cells[i] = _SPELLING[cells[i]]
            out.append(cells)
        return out

    return spell


def _registered(writers: _Writers, item: Entity | Relationship) -> list[ImportFile]:
    files = []
    for key, (_, path, rows) in writers.files.items():
        is_nodes = isinstance(item, Entity) and key == item.name
        kind = FileKind.NODES if is_nodes else FileKind.RELATIONSHIPS
        label = item.label if isinstance(item, Entity) and is_nodes else key
        # csv quotes a value holding a newline; more lines than rows means one did.
        multiline = count_rows(path) != rows
        files.append(ImportFile(kind, label, path, rows, multiline))
    return files
