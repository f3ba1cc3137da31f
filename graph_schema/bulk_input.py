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
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
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


class _Run:
    def __init__(
        self,
        schema: GraphSchema,
        out: Path,
        strict: bool,
        max_bad_rows: int,
        progress: ProgressCallback | None,
    ) -> None:
        self.schema, self.out, self.strict = schema, out, strict
        self.max_bad_rows, self.progress = max_bad_rows, progress
        self.result = BulkInput()
        self.bad_lines: dict[str, set[int]] = {}

    def report_bad(self, rows: list[BadRow]) -> None:
        if rows and self.strict:
            raise DataImportError(rows[0])
        self.result.bad_count += len(rows)
        room = max(0, self.max_bad_rows - len(self.result.bad))
        self.result.bad.extend(rows[:room])


def write_bulk_input(
    schema: GraphSchema,
    directory: str | Path,
    out: str | Path,
    *,
    strict: bool = False,
    max_bad_rows: int = 1_000,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
) -> BulkInput:
    """Validate and convert the CSV files the schema names in `directory` into `out`.

    Bad rows are reported and left out, as the transactional import does; with `strict` the first
    one (or a missing file) raises DataImportError. Unknown relationship ends and duplicate keys
    are found later, by the importer itself.
    """
    root, target = Path(directory), Path(out)
    target.mkdir(parents=True, exist_ok=True)
    run = _Run(schema, target, strict, max_bad_rows, progress)
    named = {e.csv for e in schema.entities if e.csv} | {
        r.csv for r in schema.relationships if r.csv
    }
    run.result.missing = sorted(n for n in named if not (root / n).is_file())
    if run.result.missing and strict:
        raise DataImportError(BadRow(run.result.missing[0], 0, None, None, "file not found"))
    headers = {n: read_header(root / n) for n in named if n not in run.result.missing}
    plan = plan_load(schema, headers)
    tasks: list[tuple[Entity | Relationship, tuple[Link, ...]]] = [
        (e, links) for e, links in plan.entities if e.csv
    ]
    tasks += [(r, ()) for r in plan.relationships if r.csv and r.csv not in run.result.missing]
    for index, (item, links) in enumerate(tasks):
        _convert_file(run, root, item, links, index, len(tasks), batch_size)
    return run.result


def _plan(run: _Run, path: Path, item: Entity | Relationship, links: Sequence[Link]) -> FilePlan:
    header = read_header(path)
    if isinstance(item, Entity):
        return plan_entity(item, header, path.name, links)
    ignore = frozenset(run.bad_lines.get(path.name, ()))
    return plan_relationship(run.schema, item, header, path.name, ignore)


def _convert_file(
    run: _Run,
    root: Path,
    item: Entity | Relationship,
    links: tuple[Link, ...],
    index: int,
    total_files: int,
    batch_size: int,
) -> None:
    assert item.csv is not None
    path, started = root / item.csv, time.perf_counter()
    is_entity = isinstance(item, Entity)
    kind = FileKind.NODES if is_entity else FileKind.RELATIONSHIPS
    name = item.name if isinstance(item, Entity) else item.type
    run.result.source_of[name] = path.name
    for link in links:
        run.result.source_of[link.relationship.type] = path.name
    total = count_rows(path)
    try:
        plan = _plan(run, path, item, links)
    except PlanError as exc:
        run.report_bad([exc.bad_row])
        run.result.reports.append(FileReport(path.name, kind, name, total, 0, total, 0, 0.0))
        return
    read = written = bad = skipped = linked = 0

    def notify(rows_total: int) -> None:
        if run.progress:
            elapsed = time.perf_counter() - started
            run.progress(
                ImportProgress(path.name, kind, name, read, rows_total, elapsed, index, total_files)
            )

    notify(total)
    with ExitStack() as stack:
        writers = _Writers(run.out, stack)
        emit = _open_outputs(run, writers, item, plan, links)
        batches = stack.enter_context(closing(prefetch(read_batches(path, plan, batch_size))))
        for batch in batches:
            run.report_bad(batch.bad)
            if is_entity:
                run.bad_lines.setdefault(path.name, set()).update(b.line for b in batch.bad)
            linked += emit(batch)
            read, written = read + batch.read, written + len(batch.rows)
            bad, skipped = bad + len(batch.bad), skipped + batch.skipped
            notify(max(total, read))
    _register(run, writers, item, links)
    notify(read)
    types = tuple(k.relationship.type for k in links)
    seconds = time.perf_counter() - started
    report = FileReport(path.name, kind, name, read, written, bad, skipped, seconds, types, linked)
    run.result.reports.append(report)


def _open_outputs(
    run: _Run,
    writers: _Writers,
    item: Entity | Relationship,
    plan: FilePlan,
    links: Sequence[Link],
) -> Callable[[Batch], int]:
    """Open the output files and return the function that writes one batch to them."""
    spell = _boolean_speller(plan.columns)
    if isinstance(item, Relationship):
        source, target = (
            run.schema.require_entity(item.source),
            run.schema.require_entity(item.target),
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


def _register(
    run: _Run, writers: _Writers, item: Entity | Relationship, links: Sequence[Link]
) -> None:
    for key, (_, path, rows) in writers.files.items():
        is_nodes = isinstance(item, Entity) and key == item.name
        kind = FileKind.NODES if is_nodes else FileKind.RELATIONSHIPS
        label = item.label if isinstance(item, Entity) and is_nodes else key
        # csv quotes a value holding a newline; more lines than rows means one did.
        multiline = count_rows(path) != rows
        run.result.files.append(ImportFile(kind, label, path, rows, multiline))
