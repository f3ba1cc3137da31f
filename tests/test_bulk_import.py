"""`import --bulk` against the transactional import: the same CSVs must give the same graph.

The transactional side loads into the shared test Neo4j; the bulk side into a throwaway Neo4j
home on a spare port (the bulk import stops and restarts its Neo4j, which the shared one must
not do under other tests). One run covers the demo data and a custom schema at once: the schema
is the default one plus test_import's shop entities, with messy values and bad rows.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import neo4j
import pytest
import yaml

from graph_schema import GraphSchema, parse_schema
from graph_schema.bulk_input import write_bulk_input
from graph_schema.bulk_report import read_report
from graph_schema.demo import generate_demo
from graph_schema.import_report import BadRow, DataImportError
from graph_schema.importer import import_directory
from server.bulk_import import BulkImportError, bulk_import
from server.services import neo4j as neo4j_service
from server.settings import REPO_ROOT, Settings
from tests.test_import import FILES, SCHEMA

pytestmark = pytest.mark.services

# Bad rows of every kind both imports report: a bad cell in a node row (its links go too), a link
# and a join row to an unknown key, a row of the wrong width; plus a quoted newline and an
# integer key written with a leading zero (the same key as 4 once converted).
EXTRA = {
    "members.csv": '4,"two\nlines",2024-02-29,yes,1e-7\nx5,Bad,,,\n',
    "purchases.csv": "P4,04,S2,7.25,2024-02-29T23:59:59.5-05:00\nP5,99,S1,1,\nP6,1,S1,oops,\n",
    "favourites.csv": "4,S9,2024-01-01,2\n3,S1\n",
}


def shop_and_demo_schema() -> GraphSchema:
    merged = yaml.safe_load((REPO_ROOT / "graph_schema" / "default.yaml").read_text())
    shop = yaml.safe_load(SCHEMA)
    merged["entities"] |= shop["entities"]
    merged["relationships"] |= shop["relationships"]
    return parse_schema(yaml.safe_dump(merged), "demo-and-shop.yaml")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bulk-csv")
    generate_demo(root, customers=60, seed=11)
    for name, text in FILES.items():
        (root / name).write_text(text + EXTRA.get(name, ""), encoding="utf-8")
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def spare(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of a Neo4j of our own in a temporary home; stopped at the end."""
    spare = settings.model_copy(
        update={
            "data_dir": tmp_path_factory.mktemp("bulk-neo4j"),
            "neo4j_uri": f"bolt://127.0.0.1:{_free_port()}",
            "neo4j_heap": "768m",
            "neo4j_pagecache_mb": 256,
        }
    )
    yield spare
    neo4j_service.stop(spare)


def fingerprint(driver: neo4j.Driver) -> list[str]:
    """Every node and relationship with each property's Cypher type and value, then the indexes
    and constraints: sorted lines, independent of element ids."""
    props = "[k IN keys({v}) | [k, valueType({v}[k]), toString({v}[k])]]"
    nodes = driver.execute_query(
        f"MATCH (n) RETURN labels(n) AS l, {props.format(v='n')} AS p"
    ).records
    rels = driver.execute_query(
        f"MATCH (a)-[e]->(b) RETURN type(e) AS t, {props.format(v='a')} AS a, "
        f"{props.format(v='e')} AS e, {props.format(v='b')} AS b"
    ).records
    indexes = driver.execute_query(
        "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, owningConstraint "
        "RETURN CASE WHEN type = 'LOOKUP' THEN '' ELSE name END AS name, type, entityType, "
        "labelsOrTypes, properties, owningConstraint"
    ).records
    constraints = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties RETURN *"
    ).records
    lines = sorted(repr((sorted(r["l"]), sorted(r["p"]))) for r in nodes)
    lines += sorted(repr((r["t"], sorted(r["a"]), sorted(r["e"]), sorted(r["b"]))) for r in rels)
    lines += sorted(repr(sorted(r.data().items())) for r in indexes)
    lines += sorted(repr(sorted(r.data().items())) for r in constraints)
    return lines


def _bad(rows: tuple[BadRow, ...]) -> list[BadRow]:
    return sorted(rows, key=lambda b: (b.file, b.line, b.column or 0))


def test_bulk_and_transactional_imports_build_the_same_graph(
    empty_graph: neo4j.Driver, spare: Settings, folder: Path
) -> None:
    schema = shop_and_demo_schema()
    with ThreadPoolExecutor(1) as pool:  # two Neo4j servers: load both at once
        loading = pool.submit(bulk_import, spare, schema, folder)
        transactional = import_directory(empty_graph, schema, folder)
        bulk, _ = loading.result()
    auth = (spare.neo4j_user, spare.neo4j_password)
    with neo4j.GraphDatabase.driver(spare.neo4j_uri, auth=auth) as driver:
        bulk_graph = fingerprint(driver)

    assert fingerprint(empty_graph) == bulk_graph
    assert len(bulk_graph) > 5_000  # the demo is in there, not only the shop
    assert _bad(bulk.bad_rows) == _bad(transactional.bad_rows)
    assert bulk.bad_row_count == transactional.bad_row_count >= 5
    assert bulk.constraints == transactional.constraints
    assert bulk.indexes == transactional.indexes
    assert bulk.rows == transactional.rows

    # A second bulk load would overwrite the graph: refused while our Neo4j runs with data...
    with pytest.raises(BulkImportError, match="only loads an empty database"):
        bulk_import(spare, schema, folder)
    # ... and while it is stopped, since emptiness cannot be checked then.
    neo4j_service.stop(spare)
    with pytest.raises(BulkImportError, match="needs our Neo4j running"):
        bulk_import(spare, schema, folder)


def test_bulk_import_refuses_a_graph_with_data_and_leaves_it_running(
    empty_graph: neo4j.Driver, settings: Settings, folder: Path
) -> None:
    empty_graph.execute_query("CREATE (:Member {memberId: 1})")
    with pytest.raises(BulkImportError, match="holds 1 nodes"):
        bulk_import(settings, shop_and_demo_schema(), folder)
    assert neo4j_service.status(settings).running
    assert empty_graph.execute_query("MATCH (n) RETURN count(n) AS c").records[0]["c"] == 1


def test_importer_input_has_typed_headers_and_keys_as_converted(tmp_path: Path) -> None:
    source = tmp_path / "csv"
    source.mkdir()
    for name, text in FILES.items():
        (source / name).write_text(text + EXTRA.get(name, ""), encoding="utf-8")
    prepared = write_bulk_input(parse_schema(SCHEMA, "shop.yaml"), source, tmp_path / "out")

    texts = {f.name: f.path.read_text(encoding="utf-8").splitlines() for f in prepared.files}
    assert (
        texts["Member"][0] == ":ID(Member),memberId:long,name,joined:date,vip:boolean,score:double"
    )
    assert texts["Member"][4] == '4,4,"two'  # the quoted newline survives ...
    assert [f.multiline for f in prepared.files if f.name == "Member"] == [True]  # ... flagged
    assert texts["MADE"][0] == ":START_ID(Member),:END_ID(Purchase),at:datetime"
    assert "4,P4,2024-03-01T04:59:59.500000+00:00" in texts["MADE"]  # 04 is 4; UTC
    assert texts["AT_STORE"][0] == ":START_ID(Purchase),:END_ID(Store)"
    assert texts["Store"] == ["code:ID(Store),city", "S1,Oslo", "S2,"]  # a string key is its ID
    assert "3,3,Zoë,2023-12-31,false,-2.0" in texts["Member"]
    assert [(b.file, b.line, b.column_name) for b in prepared.bad] == [
        ("members.csv", 7, "memberId"),
        ("purchases.csv", 7, "amount"),
        ("favourites.csv", 5, None),
    ]


def test_importer_report_lines_become_bad_rows_at_their_lines(tmp_path: Path) -> None:
    schema = parse_schema(SCHEMA, "shop.yaml")
    (tmp_path / "members.csv").write_text("memberId,name\n1,A\n2,B\n1,C\n1,D\n")
    (tmp_path / "favourites.csv").write_text("memberId,store\n1,S1\n2,S9\n7,S9\n")
    report = tmp_path / "import.report"
    report.write_text(
        "Id '1' is defined more than once in group 'Member'\n"
        "Id '1' is defined more than once in group 'Member'\n"
        "2 (Member)-[FAVOURS]->S9 (Store) referring to missing node S9\n"
        "7 (Member)-[FAVOURS]->S9 (Store) referring to missing node 7\n"
        "something new\n"
    )
    source_of = {"Member": "members.csv", "FAVOURS": "favourites.csv"}
    found, count, per_file = read_report(report, schema, tmp_path, source_of, limit=4)

    assert (count, per_file) == (5, {"members.csv": 2, "favourites.csv": 2, "": 1})
    assert [str(b) for b in found] == [
        "members.csv:4:1 (memberId): duplicate Member key 1: the first row is kept",
        "members.csv:5:1 (memberId): duplicate Member key 1: the first row is kept",
        "favourites.csv:3:2 (store): unknown Store 'S9' for FAVOURS",
        "favourites.csv:4:1 (memberId): unknown Member 7 for FAVOURS",
    ]


def test_cli_bulk_refuses_a_graph_with_data_with_a_clear_message(
    empty_graph: neo4j.Driver, folder: Path
) -> None:
    from typer.testing import CliRunner

    from server.cli import app

    empty_graph.execute_query("CREATE (:Member {memberId: 1})")
    runner = CliRunner()
    refused = runner.invoke(app, ["import", str(folder), "--bulk"])
    assert refused.exit_code == 1
    assert "only loads an empty database" in " ".join(refused.output.split())
    alone = runner.invoke(app, ["import", str(folder), "--replace"])
    assert (alone.exit_code, "--replace goes with --bulk" in alone.output) == (1, True)


def test_strict_conversion_stops_at_the_first_bad_row(tmp_path: Path) -> None:
    source = tmp_path / "csv"
    source.mkdir()
    for name, text in FILES.items():
        (source / name).write_text(text + EXTRA.get(name, ""), encoding="utf-8")
    with pytest.raises(DataImportError) as raised:
        write_bulk_input(parse_schema(SCHEMA, "shop.yaml"), source, tmp_path / "out", strict=True)
    assert (raised.value.bad_row.file, raised.value.bad_row.line) == ("members.csv", 7)


def test_bulk_import_refuses_a_neo4j_that_is_not_ours(
    settings: Settings, folder: Path, tmp_path: Path
) -> None:
    with socket.socket() as other:  # another process answering on the Bolt port
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        foreign = settings.model_copy(
            update={"data_dir": tmp_path, "neo4j_uri": f"bolt://127.0.0.1:{port}"}
        )
        with pytest.raises(BulkImportError, match="not ours"):
            bulk_import(foreign, shop_and_demo_schema(), folder)
    assert not (tmp_path / "bulk-import").exists()
