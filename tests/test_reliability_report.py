"""The figures table of docs/reliability.md: written from recorded figures, read back, and
merged so that a checkout which ran one test keeps every other test's rows."""

from __future__ import annotations

from pathlib import Path

from bench.reliability.report import DOC, END, START, merged, parse, table, write
from tests.reliability.figures import Figure


def _fig(test: str, what: str, n: int = 1, result: str = "0 of 1", passed: bool = True,
         commit: str = "abc1234") -> Figure:  # fmt: skip
    return Figure(test, what, n, result, "0", passed, "long", commit)


def test_a_table_reads_back_as_the_figures_it_was_written_from() -> None:
    figures = [_fig("Load", "list, 50 clients", 135_546, "452 req/s; p99 224 ms"),
               _fig("Supply chain", "pip-audit", 95, "blocked: a | b || c (host='x', port=443) |",
                    passed=False)]  # fmt: skip
    assert parse(table(figures)) == figures


def test_the_committed_table_parses() -> None:
    section = DOC.read_text(encoding="utf-8").split(START)[1].split(END)[0].strip()
    rows = parse(section)
    assert len(rows) == section.count("\n| ")  # every line but the header and its rule
    assert table(rows) == section  # written back byte for byte: a merge changes only its rows
    assert all(row.commit and row.mode in ("short", "long") for row in rows)


def test_recorded_figures_replace_their_rows_and_the_others_stay(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    kept = [_fig("Abuse limits", "tokens"), _fig("Load", "list, 50 clients", result="old")]
    doc.write_text(f"intro\n\n{START}\n{table(kept)}\n{END}\nafter\n", encoding="utf-8")
    new_list = _fig("Load", "list, 50 clients", result="new", commit="def5678")
    added = _fig("Load", "list, 50 clients, 2 API processes")
    write(doc, [new_list, added])
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("intro\n\n")
    assert text.endswith(f"{END}\nafter\n")
    assert parse(text.split(START)[1].split(END)[0].strip()) == [kept[0], new_list, added]
    write(doc, [added], keep=False)
    assert parse(doc.read_text(encoding="utf-8").split(START)[1].split(END)[0].strip()) == [added]


def test_merging_keeps_the_tables_order() -> None:
    a, b, c = _fig("A", "1"), _fig("A", "2"), _fig("B", "1")
    b2 = _fig("A", "2", result="newer")
    assert merged([a, b, c], [b2]) == [a, b2, c]
