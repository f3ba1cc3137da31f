"""Read the offline importer's report file (`--report-file`) back as our BadRows.

The importer writes one line per skipped entity: a duplicate key
(`Id 'C1' is defined more than once in group 'Customer'`) or a relationship to a missing node
(`C1 (Customer)-[KNOWS]->C9 (Customer) referring to missing node C9`). It does not say which
line of which file held it, so the line is found by looking for the key in the source file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from graph_schema.convert import CONVERTERS
from graph_schema.import_report import BadRow
from graph_schema.model import GraphSchema

_DUPLICATE = re.compile(r"^Id '(?P<key>.*)' is defined more than once in group '(?P<group>\w+)'")
_MISSING = re.compile(
    r"^(?P<start>.*) \((?P<sgroup>\w+)\)-\[(?P<type>\w+)\]->(?P<end>.*) \((?P<egroup>\w+)\) "
    r"referring to missing node (?P<key>.*)$"
)


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str  # entity (duplicates) or relationship type (missing ends)
    key: str
    column: str | None
    reason: str


def _entries(report: Path, schema: GraphSchema) -> Iterator[_Entry]:
    if not report.is_file():
        return
    with report.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            yield _entry(line.rstrip("\n"), schema)


def _entry(line: str, schema: GraphSchema) -> _Entry:
    if found := _DUPLICATE.match(line):
        group, key = found["group"], found["key"]
        entity = schema.entity(group)
        reason = f"duplicate {group} key {_typed(schema, group, key)}: the first row is kept"
        return _Entry(group, key, entity.key if entity else None, reason)
    if found := _MISSING.match(line):
        rel = next((r for r in schema.relationships if r.type == found["type"]), None)
        missing_start = found["key"] == found["start"]
        group = found["sgroup"] if missing_start else found["egroup"]
        column = None
        if rel is not None:
            column = rel.source_column if missing_start else rel.target_column
        reason = f"unknown {group} {_typed(schema, group, found['key'])} for {found['type']}"
        return _Entry(found["type"], found["key"], column, reason)
    return _Entry("", "", None, line)


def _typed(schema: GraphSchema, group: str, key: str) -> str:
    """The key as the transactional import words it: repr of the converted value."""
    entity = schema.entity(group)
    if entity is None:
        return repr(key)
    try:
        return repr(CONVERTERS[entity.key_attribute.type](key))
    except ValueError:
        return repr(key)


def read_report(
    report: Path,
    schema: GraphSchema,
    directory: Path,
    source_of: Mapping[str, str],
    limit: int,
) -> tuple[list[BadRow], int, dict[str, int]]:
    """The first `limit` bad rows, how many there were, and how many per source file."""
    kept: list[tuple[str, _Entry]] = []
    count, per_file = 0, dict[str, int]()
    for entry in _entries(report, schema):
        file = source_of.get(entry.name, "")
        count += 1
        per_file[file] = per_file.get(file, 0) + 1
        if len(kept) < limit:
            kept.append((file, entry))
    lines = _locate(directory, kept)
    bad = [
        BadRow(file or "(importer)", *lines.get(i, (0, None)), entry.column, entry.reason)
        for i, (file, entry) in enumerate(kept)
    ]
    return bad, count, per_file


def _locate(directory: Path, kept: list[tuple[str, _Entry]]) -> dict[int, tuple[int, int | None]]:
    """(line, column) of each entry, found in one pass per file: the n-th entry about a key is
    its n-th occurrence, or its (n+1)-th for duplicates (the first one was imported)."""
    wanted: dict[tuple[str, str], dict[str, list[int]]] = {}
    for i, (file, entry) in enumerate(kept):
        if file and entry.column:
            by_key = wanted.setdefault((file, entry.column), {})
            by_key.setdefault(entry.key, []).append(i)
    found: dict[int, tuple[int, int | None]] = {}
    for (file, column), by_key in wanted.items():
        found.update(_scan(directory / file, column, by_key, kept))
    return found


def _scan(
    path: Path, column: str, by_key: dict[str, list[int]], kept: list[tuple[str, _Entry]]
) -> Iterator[tuple[int, tuple[int, int | None]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip().casefold() for h in next(reader, [])]
        if column.casefold() not in header:
            return
        index, seen = header.index(column.casefold()), dict[str, int]()
        previous = reader.line_num
        for row in reader:
            key = row[index].strip() if len(row) > index else ""
            if key in by_key:
                n = seen[key] = seen.get(key, 0) + 1
                entries = by_key[key]
                skip = 1 if kept[entries[0]][1].reason.startswith("duplicate") else 0
                if skip < n <= len(entries) + skip:
                    yield entries[n - 1 - skip], (previous + 1, index + 1)
            previous = reader.line_num
