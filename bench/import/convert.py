"""The bulk import's CSV conversion in one process against worker processes, side by side.

    .venv/bin/python -m bench.import.convert --dir CSV_DIR [--workers 2] [--schema FILE]

Converts the folder (the `--bulk` import's first stage, no database involved) with one process
and with `--workers` processes, alternately, prints wall time, CPU of this process and its
children, and the ratio, and checks that both wrote the same files byte for byte.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import tempfile
import time
from pathlib import Path

from graph_schema import default_schema, load_schema
from graph_schema.bulk_input import BulkInput, write_bulk_input


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def convert(
    folder: Path, out: Path, workers: int, schema_file: Path | None
) -> tuple[float, float, BulkInput]:
    schema = load_schema(schema_file) if schema_file else default_schema()
    shutil.rmtree(out, ignore_errors=True)
    wall, cpu = time.perf_counter(), _cpu()
    result = write_bulk_input(schema, folder, out, workers=workers)
    return time.perf_counter() - wall, _cpu() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--schema", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulk-convert-") as tmp:
        one, many = Path(tmp) / "one", Path(tmp) / "many"
        wall1, cpu1, result = convert(args.dir, one, 1, args.schema)
        print(f"1 process:   {wall1:7.1f} s wall, {cpu1:7.1f} s CPU, {result.rows:,} rows")
        wall_n, cpu_n, pooled = convert(args.dir, many, args.workers, args.schema)
        print(f"{args.workers} processes: {wall_n:7.1f} s wall, {cpu_n:7.1f} s CPU")
        same = all(
            filecmp.cmp(a.path, b.path, shallow=False)
            for a, b in zip(result.files, pooled.files, strict=True)
        )
        load = os.getloadavg()[0]
        print(f"speed-up {wall1 / wall_n:.2f}x wall; same files: {same}; load {load:.1f}")
        if not same:
            raise SystemExit("the converted files differ")


if __name__ == "__main__":
    main()
