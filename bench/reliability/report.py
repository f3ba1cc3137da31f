"""Write the reliability figures into docs/reliability.md (between the figures markers).

    RELIABILITY_LONG=1 pytest tests/reliability   # long mode, by hand
    python -m bench.reliability.report --mode long

The recorded figures (DATA_DIR/reliability/<mode>.jsonl) are local and not committed, so a
checkout usually holds only those of the tests it ran: they replace the table's rows of the same
(test, what) and add new ones, and every other row stays as the table had it. `--only-recorded`
writes the recorded figures alone (to drop rows of tests that no longer exist).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from server.settings import REPO_ROOT
from tests.reliability.figures import Figure, latest

DOC = REPO_ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def _cell(text: str) -> str:
    """A table cell: a `|` inside (an error message may hold one) must not end it."""
    return text.replace("|", "\\|")


def table(figures: list[Figure]) -> str:
    rows = [
        "| Test | What | N | Result | Threshold | Pass | Mode | Commit |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for f in sorted(figures, key=lambda f: f.test):
        mark = "yes" if f.passed else "**no**"
        rows.append(
            f"| {_cell(f.test)} | {_cell(f.what)} | {f.n:,} | {_cell(f.result)} "
            f"| {_cell(f.threshold)} | {mark} "
            f"| {f.mode} | `{f.commit}` |"
        )
    return "\n".join(rows)


def parse(table_text: str) -> list[Figure]:
    """The rows of a table `table` wrote, back as figures (the time they were taken is lost)."""
    found = []
    for line in table_text.splitlines()[2:]:
        inner = line.strip().removeprefix("| ").removesuffix(" |")
        cells = [cell.replace("\\|", "|") for cell in re.split(r"(?<!\\) \| ", inner)]
        if len(cells) != 8:
            raise ValueError(f"not a figures row ({len(cells)} cells, want 8): {line}")
        test, what, n, result, threshold, mark, run_mode, commit = cells
        found.append(Figure(test, what, int(n.replace(",", "")), result, threshold,
                            mark == "yes", run_mode, commit.strip("`")))  # fmt: skip
    return found


def merged(kept: list[Figure], recorded: list[Figure]) -> list[Figure]:
    """`kept` with each row that `recorded` has a figure for replaced, and the rest added."""
    newest = {(f.test, f.what): f for f in recorded}
    out = [newest.pop((f.test, f.what), f) for f in kept]
    return out + list(newest.values())


def write(doc: Path, figures: list[Figure], keep: bool = True) -> None:
    text = doc.read_text(encoding="utf-8")
    head, start, rest = text.partition(START)
    old, end, tail = rest.partition(END)
    if not (start and end):
        raise SystemExit(f"{doc}: the {START} and {END} markers are missing")
    if keep:
        figures = merged(parse(old.strip()), figures)
    doc.write_text(f"{head}{START}\n{table(figures)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["short", "long"], default="long")
    parser.add_argument("--only-recorded", action="store_true",
                        help="drop the table's rows that no recorded figure replaces")  # fmt: skip
    args = parser.parse_args()
    figures = latest(args.mode)
    if not figures:
        raise SystemExit(f"no {args.mode} figures recorded: run the reliability tests first")
    write(DOC, figures, keep=not args.only_recorded)
    print(f"{len(figures)} recorded figures written to {DOC.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
