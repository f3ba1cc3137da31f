"""The offline importer's input written by worker processes must be what one process writes:
the same files, reports and bad rows, in the same order, and a strict run stops at the same row."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from graph_schema import GraphSchema, parse_schema
from graph_schema.bulk_input import BulkInput, write_bulk_input
from graph_schema.demo import generate_demo
from graph_schema.import_report import DataImportError, ImportProgress
from tests.test_bulk_import import EXTRA, shop_and_demo_schema
from tests.test_import import FILES

# A self-relationship in the entity's own file gets a pass of its own after the entity's, which
# must skip the rows that were bad as entities (line 4: `x3` is no integer).
REFERRALS = dedent(
    """\
    entities:
      Member:
        key: memberId
        profile: true
        csv: members.csv
        attributes: {memberId: integer, name: string}
    relationships:
      REFERRED: {from: Member, to: Member, csv: members.csv, to_column: referrer}
    """
)
REFERRAL_ROWS = "memberId,name,referrer\n1,Ann,\n2,Bob,1\nx3,Bad,1\n4,Dan,2\n5,Eve,x3\n"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bulk-input")
    generate_demo(root, customers=300, seed=5)
    for name, text in FILES.items():
        (root / name).write_text(text + EXTRA.get(name, ""), encoding="utf-8")
    return root


def _converted(
    schema: GraphSchema, source: Path, out: Path, workers: int, max_bad_rows: int = 1_000
) -> tuple[BulkInput, list[ImportProgress], dict[str, str]]:
    events: list[ImportProgress] = []
    result = write_bulk_input(
        schema, source, out, workers=workers, progress=events.append, max_bad_rows=max_bad_rows
    )
    texts = {f.path.name: f.path.read_text(encoding="utf-8") for f in result.files}
    return result, events, texts


def _comparable(result: BulkInput) -> tuple[object, ...]:
    reports = [replace(r, seconds=0.0) for r in result.reports]
    files = [(f.kind, f.name, f.path.name, f.rows, f.multiline) for f in result.files]
    return reports, files, result.bad, result.bad_count, result.missing, result.source_of


@pytest.mark.parametrize("max_bad_rows", [1_000, 2])
def test_worker_processes_write_what_one_process_writes(
    demo: Path, tmp_path: Path, max_bad_rows: int
) -> None:
    schema = shop_and_demo_schema()
    alone, _, alone_texts = _converted(schema, demo, tmp_path / "one", 1, max_bad_rows=max_bad_rows)
    pooled, events, pooled_texts = _converted(
        schema, demo, tmp_path / "pool", 3, max_bad_rows=max_bad_rows
    )

    assert _comparable(pooled) == _comparable(alone)
    assert pooled_texts == alone_texts
    assert alone.bad_count == 3
    assert len(alone.bad) == min(3, max_bad_rows)
    # Progress from the workers reached the callback: each file's last event is its whole file.
    last = {(e.file, e.name): e.rows_done for e in events}
    assert last == {(r.file, r.name): r.rows for r in pooled.reports}


def test_a_separate_pass_over_an_entity_file_skips_its_bad_rows_in_workers(tmp_path: Path) -> None:
    schema = parse_schema(REFERRALS, "referrals.yaml")
    (tmp_path / "members.csv").write_text(REFERRAL_ROWS, encoding="utf-8")
    alone, _, alone_texts = _converted(schema, tmp_path, tmp_path / "one", 1)
    pooled, _, pooled_texts = _converted(schema, tmp_path, tmp_path / "pool", 2)

    assert _comparable(pooled) == _comparable(alone)
    assert pooled_texts == alone_texts
    referred = next(t for name, t in pooled_texts.items() if name.endswith("REFERRED.csv"))
    # Bob->Ann and Dan->Bob; Bad's row was a bad Member and Eve's referrer is no integer.
    assert referred.splitlines()[1:] == ["2,1", "4,2"]
    assert [(b.file, b.line) for b in pooled.bad] == [("members.csv", 4), ("members.csv", 6)]


def test_a_strict_run_in_workers_stops_at_the_row_a_sequential_run_stops_at(
    demo: Path, tmp_path: Path
) -> None:
    schema = shop_and_demo_schema()
    with pytest.raises(DataImportError) as alone:
        write_bulk_input(schema, demo, tmp_path / "one", strict=True, workers=1)
    with pytest.raises(DataImportError) as pooled:
        write_bulk_input(schema, demo, tmp_path / "pool", strict=True, workers=3)
    assert pooled.value.bad_row == alone.value.bad_row
    assert (pooled.value.bad_row.file, pooled.value.bad_row.line) == ("members.csv", 7)
