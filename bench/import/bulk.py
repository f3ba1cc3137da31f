"""Bulk (offline neo4j-admin) import against the transactional importer, on the same CSVs.

    .venv/bin/python bench/import/bulk.py --dir CSV_DIR [--skip-transactional] [--port 7192]

The transactional side loads into the environment's Neo4j, emptied first (it holds the tests'
lock file meanwhile); the bulk side into a throwaway Neo4j home (DATA_DIR/bench-bulk) on a
spare port with the environment's heap and page cache, stopped and deleted afterwards unless
--keep. Both count rows the same way (ImportReport.rows), so rows/s compare directly. Bulk time
is the whole command: conversion, neo4j-admin, Neo4j start, constraints and indexes online.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import time
from pathlib import Path

import neo4j

from graph_schema import default_schema, load_schema
from graph_schema.import_report import ImportReport
from graph_schema.importer import import_directory
from server.bulk_import import BulkTiming, bulk_import
from server.services import neo4j as neo4j_service
from server.settings import Settings, get_settings
from tests.conftest import graph_lock, wipe_graph


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def transactional(settings: Settings, folder: Path, schema_file: Path | None) -> ImportReport:
    schema = load_schema(schema_file) if schema_file else default_schema()
    auth = (settings.neo4j_user, settings.neo4j_password)
    port = int(settings.neo4j_uri.rsplit(":", 1)[-1])
    with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver, graph_lock(port):
        wipe_graph(driver)
        return import_directory(driver, schema, folder)


def bulk(
    settings: Settings, folder: Path, schema_file: Path | None, port: int, keep: bool
) -> tuple[ImportReport, BulkTiming]:
    schema = load_schema(schema_file) if schema_file else default_schema()
    spare = settings.model_copy(
        update={
            "data_dir": settings.data_dir / "bench-bulk",
            "neo4j_uri": f"bolt://127.0.0.1:{port}",
        }
    )
    neo4j_service.stop(spare)
    shutil.rmtree(spare.data_dir, ignore_errors=True)
    try:
        return bulk_import(spare, schema, folder, on_line=_admin_stage)
    finally:
        if not keep:
            neo4j_service.stop(spare)
            shutil.rmtree(spare.data_dir, ignore_errors=True)


def _admin_stage(line: str) -> None:
    if line.startswith(("(", "IMPORT")) or "COMPLETED" in line:
        print(f"  neo4j-admin {line.strip()}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="CSV folder (read only)")
    parser.add_argument("--schema", type=Path, help="graph schema YAML (default: built-in)")
    parser.add_argument("--skip-transactional", action="store_true")
    parser.add_argument("--port", type=int, default=0, help="bulk side's Bolt port (free one)")
    parser.add_argument("--keep", action="store_true", help="keep the bulk side's Neo4j running")
    args = parser.parse_args(argv)
    settings = get_settings()
    rows: list[tuple[str, ImportReport]] = []
    print(f"bulk import of {args.dir}", flush=True)
    started = time.perf_counter()
    report, timing = bulk(settings, args.dir, args.schema, args.port or _free_port(), args.keep)
    print(f"  bulk: {time.perf_counter() - started:.1f} s; {timing}", flush=True)
    rows.append(("bulk (neo4j-admin)", report))
    if not args.skip_transactional:
        print(f"transactional import of {args.dir}", flush=True)
        rows.append(("transactional", transactional(settings, args.dir, args.schema)))
    print("| method | rows | seconds | rows/s | bad rows |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(f"| {name} | {r.rows:,} | {r.seconds:.1f} | {r.rows_per_second:,.0f} | "
              f"{r.bad_row_count} |")  # fmt: skip
    if len(rows) == 2:
        print(f"bulk is {rows[1][1].seconds / rows[0][1].seconds:.1f}x faster")


if __name__ == "__main__":
    main()
