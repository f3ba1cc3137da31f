"""Write the reliability figures into docs/reliability.md (between the figures markers).

    RELIABILITY_LONG=1 pytest tests/reliability   # long mode, by hand
    python -m bench.reliability.report --mode long
"""

from __future__ import annotations

import argparse
from pathlib import Path

from server.settings import REPO_ROOT
from tests.reliability.figures import Figure, latest

DOC = REPO_ROOT / "docs" / "reliability.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"


def table(figures: list[Figure]) -> str:
    rows = [
        "| Test | What | N | Result | Threshold | Pass | Mode | Commit |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for f in sorted(figures, key=lambda f: f.test):
        mark = "yes" if f.passed else "**no**"
        rows.append(
            f"| {f.test} | {f.what} | {f.n:,} | {f.result} | {f.threshold} | {mark} "
            f"| {f.mode} | `{f.commit}` |"
        )
    return "\n".join(rows)


def write(doc: Path, figures: list[Figure]) -> None:
    text = doc.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    doc.write_text(f"{head}{START}\n{table(figures)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["short", "long"], default="long")
    args = parser.parse_args()
    figures = latest(args.mode)
    if not figures:
        raise SystemExit(f"no {args.mode} figures recorded: run the reliability tests first")
    write(DOC, figures)
    print(f"{len(figures)} figures written to {DOC.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
