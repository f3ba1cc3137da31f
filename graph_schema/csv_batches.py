"""Read a CSV file into converted batches for one entity or relationship.

Each batch is converted column by column (one tight loop per column, no per-cell branching);
only a batch holding a bad cell falls back to row-by-row conversion to say which row and column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graph_schema.convert import CONVERTERS, Converter
from graph_schema.import_plan import Link
from graph_schema.import_report import BadRow
from graph_schema.model import Attribute, AttrType, Entity, GraphSchema, Relationship


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # the attribute (or join column) it fills
    index: int  # 0-based position in the CSV
    type: AttrType
    required: bool = False  # keys and join columns


@dataclass(frozen=True, slots=True)
class FilePlan:
    """Which CSV columns become which parameter positions: row[i] fills columns[i]."""

    file: str
    columns: tuple[Column, ...]
    width: int  # number of header fields
    skip_empty_required: bool = False  # an empty foreign key means "no relationship"
    ignore_lines: frozenset[int] = frozenset()  # rows already reported by the node pass
    node_columns: int = 0  # in a node file with links: columns before the links' columns
    links: tuple[LinkColumns, ...] = ()


@dataclass(frozen=True, slots=True)
class LinkColumns:
    """Row positions of one link's anchor key and relationship attributes."""

    anchor_key: int
    attributes: tuple[int, ...]


@dataclass(slots=True)
class Batch:
    rows: list[Sequence[object]]
    lines: list[int]  # line of each row in `rows`
    bad: list[BadRow] = field(default_factory=list)
    read: int = 0  # data rows consumed from the file, bad and skipped included
    skipped: int = 0


class PlanError(Exception):
    """The header lacks a required column: the whole file is unusable."""

    def __init__(self, bad_row: BadRow) -> None:
        self.bad_row = bad_row
        super().__init__(str(bad_row))


def read_header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [h.strip() for h in next(csv.reader(fh), [])]


def _find(header: list[str], name: str) -> int | None:
    if name in header:
        return header.index(name)
    folded = [h.casefold() for h in header]
    return folded.index(name.casefold()) if name.casefold() in folded else None


def _required(header: list[str], name: str, kind: AttrType, file: str) -> Column:
    index = _find(header, name)
    if index is None:
        raise PlanError(BadRow(file, 1, None, name, f"header has no column {name!r}"))
    return Column(name, index, kind, required=True)


def _optional(header: list[str], attrs: Sequence[Attribute], skip: str = "") -> list[Column]:
    found = ((a, _find(header, a.name)) for a in attrs if a.name != skip)
    return [Column(a.name, i, a.type) for a, i in found if i is not None]


def plan_entity(
    entity: Entity, header: list[str], file: str, links: Sequence[Link] = ()
) -> FilePlan:
    """Key first, then every attribute the header has, then each link's anchor key and
    attributes. Raises PlanError without a key column."""
    key = _required(header, entity.key, entity.key_attribute.type, file)
    columns = [key, *_optional(header, entity.attributes, skip=entity.key)]
    node_columns, positions = len(columns), []
    for link in links:
        index = _find(header, link.anchor_column)
        assert index is not None, "plan_load links only columns the header has"
        columns.append(Column(link.anchor_column, index, link.anchor.key_attribute.type))
        attributes = _optional(header, link.relationship.attributes)
        positions.append(LinkColumns(len(columns) - 1, tuple(range(len(columns),
                                     len(columns) + len(attributes)))))  # fmt: skip
        columns += attributes
    return FilePlan(
        file, tuple(columns), len(header), node_columns=node_columns, links=tuple(positions)
    )


def plan_relationship(
    schema: GraphSchema, rel: Relationship, header: list[str], file: str, ignore: frozenset[int]
) -> FilePlan:
    """Source key, target key, then the relationship's attributes. Raises PlanError."""
    assert rel.source_column, "the loader sets join columns whenever csv is set"
    assert rel.target_column, "the loader sets join columns whenever csv is set"
    source, target = schema.require_entity(rel.source), schema.require_entity(rel.target)
    cols = (
        _required(header, rel.source_column, source.key_attribute.type, file),
        _required(header, rel.target_column, target.key_attribute.type, file),
        *_optional(header, rel.attributes),
    )
    fk_join = any(e.csv == rel.csv for e in schema.entities)
    return FilePlan(file, cols, len(header), skip_empty_required=fk_join, ignore_lines=ignore)


def count_rows(path: Path) -> int:
    """Data rows estimated from newlines (quoted newlines overcount; only used for progress)."""
    newlines, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, newlines + (last != b"\n") - 1)


def read_batches(path: Path, plan: FilePlan, batch_size: int) -> Iterator[Batch]:
    """Yield converted batches of at most `batch_size` rows (blank lines are ignored)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        rows: list[list[str]] = []
        lines: list[int] = []
        previous_end = reader.line_num
        for row in reader:
            if row:
                rows.append(row)
                lines.append(previous_end + 1)
            previous_end = reader.line_num
            if len(rows) >= batch_size:
                yield convert_batch(plan, rows, lines)
                rows, lines = [], []
        if rows:
            yield convert_batch(plan, rows, lines)


def convert_batch(plan: FilePlan, rows: list[list[str]], lines: list[int]) -> Batch:
    if plan.ignore_lines:
        kept = [(r, n) for r, n in zip(rows, lines, strict=True) if n not in plan.ignore_lines]
        ignored = len(rows) - len(kept)
        rows, lines = [r for r, _ in kept], [n for _, n in kept]
    else:
        ignored = 0
    batch = _convert_columns(plan, rows, lines) or _convert_rows(plan, rows, lines)
    batch.read += ignored
    return batch


def _convert_columns(plan: FilePlan, rows: list[list[str]], lines: list[int]) -> Batch | None:
    """The fast path; None when any row needs a closer look."""
    width = plan.width
    if any(len(r) != width for r in rows):
        return None
    cells = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    try:
        columns = [_convert_column(CONVERTERS[c.type], cells[c.index]) for c in plan.columns]
    except ValueError:
        return None
    if any(None in values for c, values in zip(plan.columns, columns, strict=True) if c.required):
        return None
    return Batch(rows=list(zip(*columns, strict=True)), lines=lines, read=len(rows))


def _convert_column(convert: Converter, cells: Sequence[str]) -> list[object]:
    if convert is CONVERTERS[AttrType.STRING]:
        return [v or None for v in cells]
    return list(map(convert, cells))


def _convert_rows(plan: FilePlan, rows: list[list[str]], lines: list[int]) -> Batch:
    batch = Batch(rows=[], lines=[], read=len(rows))
    for row, line in zip(rows, lines, strict=True):
        converted = _convert_row(plan, row, line, batch)
        if converted is not None:
            batch.rows.append(converted)
            batch.lines.append(line)
    return batch


def _convert_row(plan: FilePlan, row: list[str], line: int, batch: Batch) -> list[object] | None:
    if len(row) != plan.width:
        reason = f"expected {plan.width} fields, found {len(row)}"
        batch.bad.append(BadRow(plan.file, line, None, None, reason))
        return None
    values: list[object] = []
    for c in plan.columns:
        try:
            value = CONVERTERS[c.type](row[c.index])
        except ValueError as exc:
            batch.bad.append(BadRow(plan.file, line, c.index + 1, c.name, str(exc)))
            return None
        if value is None and c.required:
            if plan.skip_empty_required:
                batch.skipped += 1
            else:
                batch.bad.append(BadRow(plan.file, line, c.index + 1, c.name, "empty key"))
            return None
        values.append(value)
    return values
