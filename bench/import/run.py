"""Import benchmark: our batched importer against naive baselines on the same demo files.

    .venv/bin/python bench/import/run.py [--customers 10000] [--short] [--dir CSV_DIR]

Methods, each on an emptied graph with the same schema, constraints and indexes:
- `importer`: graph_schema.importer.import_directory (20k-row UNWIND batches, pipelined parsing).
- `importer-sep`: the same with `merge_foreign_keys=False` (every relationship in its own pass).
- `one-unwind`: the usual hand-written loader: the same statements and conversions, but a
  whole file in a single UNWIND transaction, and every relationship in its own pass.
- `row-at-a-time`: one MERGE transaction per row, timed on a sample and reported as a rate.
- `load-csv`: LOAD CSV ... CALL {} IN TRANSACTIONS, when the server's import directory is
  local and writable (skipped otherwise).
Rows are the data rows of the schema's files, each file counted once, the same for every method
(row-at-a-time: its sample). Each method first runs once on a tiny dataset to warm the server's
JIT and plan cache. Wipes the database: it holds the tests' lock file meanwhile.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import neo4j

from graph_schema import GraphSchema, default_schema, quote_identifier
from graph_schema.csv_batches import (
    FilePlan,
    plan_entity,
    plan_relationship,
    read_batches,
    read_header,
)
from graph_schema.demo import generate_demo
from graph_schema.import_cypher import node_upsert, relationship_upsert, schema_ddl
from graph_schema.importer import import_directory
from graph_schema.model import AttrType
from server.settings import get_settings
from tests.conftest import graph_lock

q = quote_identifier
Result = tuple[str, int, float]  # method, rows, seconds


def wipe(driver: neo4j.Driver, schema: GraphSchema) -> None:
    with driver.session() as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS"
        ).consume()
        constraints, indexes = schema_ddl(schema)
        for ddl in (*constraints, *indexes):  # every method starts with the same index set
            session.run(ddl.statement).consume()
        session.run("CALL db.awaitIndexes(600)").consume()


def timed(name: str, rows: int, run: Callable[[], object]) -> Result:
    started = time.perf_counter()
    run()
    return name, rows, time.perf_counter() - started


def ours(driver: neo4j.Driver, schema: GraphSchema, folder: Path) -> None:
    report = import_directory(driver, schema, folder)
    assert report.ok, report.bad_rows[:3]


def ours_separate(driver: neo4j.Driver, schema: GraphSchema, folder: Path) -> None:
    report = import_directory(driver, schema, folder, merge_foreign_keys=False)
    assert report.ok, report.bad_rows[:3]


def one_unwind(driver: neo4j.Driver, schema: GraphSchema, folder: Path) -> None:
    """The common hand-written loader: per file and pass, the whole file in one UNWIND
    transaction (the same statements and conversions), relationships in their own passes."""
    with driver.session() as session:
        for e in schema.entities:
            if e.csv and (folder / e.csv).exists():
                path = folder / e.csv
                plan = plan_entity(e, read_header(path), path.name)
                _write_all(session, node_upsert(e, plan.columns), path, plan)
        for r in schema.relationships:
            if r.csv and (folder / r.csv).exists():
                path = folder / r.csv
                plan = plan_relationship(schema, r, read_header(path), path.name, frozenset())
                _write_all(session, relationship_upsert(schema, r, plan.columns), path, plan)


def _write_all(session: neo4j.Session, statement: str, path: Path, plan: FilePlan) -> None:
    for batch in read_batches(path, plan, 10**9):  # one batch: the whole file
        session.execute_write(_run_rows, statement, batch.rows)


def _run_rows(tx: neo4j.ManagedTransaction, statement: str, rows: object) -> None:
    tx.run(statement, rows=rows).consume()


def dataset_rows(schema: GraphSchema, folder: Path) -> int:
    """Data rows in the schema's files, each file counted once: the common denominator."""
    names = {e.csv for e in schema.entities} | {r.csv for r in schema.relationships}
    return sum(count_rows(folder / n) for n in names if n and (folder / n).exists())


def row_at_a_time(driver: neo4j.Driver, schema: GraphSchema, folder: Path, sample: int) -> int:
    """Customers' first `sample` rows, one auto-committed MERGE each (the usual naive loop)."""
    entity = schema.require_entity("Customer")
    assert entity.csv is not None
    path = folder / entity.csv
    plan = plan_entity(entity, read_header(path), path.name)
    statement = node_upsert(entity, plan.columns)
    batch = next(read_batches(path, plan, sample))
    with driver.session() as session:
        for row in batch.rows:
            session.run(statement, rows=[row]).consume()
    return len(batch.rows)


def _cast(kind: AttrType, cell: str) -> str:
    return {
        AttrType.STRING: cell,
        AttrType.INTEGER: f"toInteger({cell})",
        AttrType.FLOAT: f"toFloat({cell})",
        AttrType.BOOLEAN: f"toBoolean({cell})",
        AttrType.DATE: f"date({cell})",
        AttrType.DATETIME: f"datetime({cell})",
    }[kind]


def _field(name: str) -> str:
    return f"row[{name!r}]"  # names come from the validated schema: identifiers, no quotes


def load_csv_statements(schema: GraphSchema, folder: Path) -> Iterator[tuple[str, str, int]]:
    """(file, statement, rows) for every node and relationship pass, schema-driven."""
    tail = "} IN TRANSACTIONS OF 20000 ROWS"
    for e in schema.entities:
        if e.csv and (folder / e.csv).exists():
            header = set(read_header(folder / e.csv))
            sets = ", ".join(
                f"n.{q(a.name)} = {_cast(a.type, _field(a.name))}"
                for a in e.attributes
                if a.name != e.key and a.name in header
            )
            key = _cast(e.key_attribute.type, _field(e.key))
            yield (
                e.csv,
                (
                    f"LOAD CSV WITH HEADERS FROM $url AS row CALL (row) {{ "
                    f"MERGE (n:{q(e.label)} {{{q(e.key)}: {key}}}) SET {sets} {tail}"
                ),
                count_rows(folder / e.csv),
            )
    for r in schema.relationships:
        if r.csv and r.source_column and r.target_column and (folder / r.csv).exists():
            a, b = schema.require_entity(r.source), schema.require_entity(r.target)
            ka = _cast(a.key_attribute.type, _field(r.source_column))
            kb = _cast(b.key_attribute.type, _field(r.target_column))
            yield (
                r.csv,
                (
                    f"LOAD CSV WITH HEADERS FROM $url AS row CALL (row) {{ "
                    f"MATCH (a:{q(a.label)} {{{q(a.key)}: {ka}}}) "
                    f"MATCH (b:{q(b.label)} {{{q(b.key)}: {kb}}}) "
                    f"MERGE (a)-[:{q(r.type)}]->(b) {tail}"
                ),
                count_rows(folder / r.csv),
            )


def count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def import_dir(driver: neo4j.Driver) -> Path | None:
    records = driver.execute_query(
        "SHOW SETTINGS YIELD name, value WHERE name = 'server.directories.import' RETURN value"
    ).records
    folder = Path(records[0]["value"]) if records and records[0]["value"] else None
    return folder if folder and folder.is_dir() else None


def _url_prefix(driver: neo4j.Driver, target: Path) -> str:
    """Relative to the import directory when the server confines file URLs to it; the embedded
    launcher does not, and then only the absolute path resolves."""
    probe = "LOAD CSV FROM $url AS row RETURN count(*) AS c"
    for prefix in (f"file:///{target.name}", f"file://{target}"):
        try:
            driver.execute_query(probe, url=f"{prefix}/{next(target.iterdir()).name}")
            return prefix
        except neo4j.exceptions.ClientError:
            continue
    raise RuntimeError(f"the server cannot read CSV files from {target}")


def load_csv(driver: neo4j.Driver, schema: GraphSchema, folder: Path, target: Path) -> None:
    shutil.copytree(folder, target, dirs_exist_ok=True)
    try:
        prefix = _url_prefix(driver, target)
        with driver.session() as session:
            for file, statement, _ in load_csv_statements(schema, target):
                session.run(statement, url=f"{prefix}/{file}").consume()
    finally:
        shutil.rmtree(target, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", action="store_true", help="CI size: 1,000 customers")
    parser.add_argument("--dir", type=Path, help="existing demo CSV folder (default: generate)")
    parser.add_argument("--sample", type=int, default=2_000, help="rows for row-at-a-time")
    parser.add_argument("--skip", action="append", default=[], help="method to skip")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method (best is kept)")
    args = parser.parse_args(argv)
    customers = 1_000 if args.short else args.customers
    settings = get_settings()
    schema = default_schema()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-import-"))
    if not args.dir:
        summary = generate_demo(folder, customers=customers, seed=args.seed, today=date.today())
        print(f"generated {summary}")
    driver = neo4j.GraphDatabase.driver(
        settings.neo4j_uri, auth=(settings.neo4j_user, settings.neo4j_password)
    )
    version = driver.execute_query("CALL dbms.components() YIELD versions RETURN versions[0] AS v")
    print(f"Neo4j {version.records[0]['v']} at {settings.neo4j_uri}")
    warmup = Path(tempfile.mkdtemp(prefix="bench-import-warmup-"))
    generate_demo(warmup, customers=200, seed=args.seed + 1, today=date.today())
    server_dir = import_dir(driver)
    rows = dataset_rows(schema, folder)
    methods: list[tuple[str, int, Callable[[Path], object]]] = [
        ("importer", rows, lambda f: ours(driver, schema, f)),
        ("importer-sep", rows, lambda f: ours_separate(driver, schema, f)),
        ("one-unwind", rows, lambda f: one_unwind(driver, schema, f)),
        ("row-at-a-time", args.sample, lambda f: row_at_a_time(driver, schema, f, args.sample)),
    ]
    if server_dir is not None:
        methods.append(
            (
                "load-csv",
                rows,
                lambda f: load_csv(driver, schema, f, server_dir / f"bench-{f.name}"),
            )
        )
    else:
        print("load-csv: skipped (the server has no local import directory)")
    methods = [m for m in methods if m[0] not in args.skip]
    results: list[Result] = []
    with graph_lock(int(settings.neo4j_uri.rsplit(":", 1)[-1])):
        for _name, _, run in methods:  # warm the JIT and plan caches on a tiny dataset first
            wipe(driver, schema)
            run(warmup)
        # Repeats alternate the order (ABBA): the shared machine's load drifts during a run.
        for repeat in range(args.repeat):
            for name, count, run in methods if repeat % 2 == 0 else methods[::-1]:
                wipe(driver, schema)
                results.append(timed(name, count, lambda run=run: run(folder)))  # type: ignore[misc]
                print(f"  {name:14} {count:>10,} rows {results[-1][2]:8.1f}s", flush=True)
        wipe(driver, schema)
    driver.close()
    shutil.rmtree(warmup, ignore_errors=True)
    report(results)


def report(runs: list[Result]) -> None:
    best: dict[str, Result] = {}
    for name, rows, seconds in runs:
        if name not in best or seconds < best[name][2]:
            best[name] = (name, rows, seconds)
    results = list(best.values())
    ours_rate = next((rows / s for name, rows, s in results if name == "importer"), 0.0)
    print(f"\n{'method':14} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'importer x':>10}")
    for name, rows, seconds in results:
        rate = rows / seconds if seconds else 0.0
        ratio = f"{ours_rate / rate:.1f}x" if rate else "-"
        print(f"{name:14} {rows:>10,} {seconds:>8.1f} {rate:>10,.0f} {ratio:>10}")


if __name__ == "__main__":
    main()
