"""Export safety: no cell a spreadsheet would run as a formula (members.csv and CSV exports),
PII masked by role in the stream, and a large members.csv streamed with flat memory.

The formula oracle is written here, independently of `server.members_table`: OWASP's starting
characters (= + - @ tab CR), their fullwidth forms (Excel reads `＝1+1` as a formula in CJK
locales), and the same after leading spaces is unsafe unless the cell starts with a quote."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path

import neo4j
import psutil
import pytest

from server.settings import Settings
from tests.api.conftest import Api, as_key, create_ok, key_for, running
from tests.api.test_members import node_id
from tests.exports.conftest import add_members, create_export_ok, drain, export_by_name, run_ok
from tests.reliability.figures import record, scale
from tests.reliability.payloads import payloads

pytestmark = pytest.mark.services

TEST = "Export safety"
STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
FORMULAS = [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0", '=HYPERLINK("x")',
    "＝1+1", "＋1", "－1", "＠SUM(A1)", " =1+1", "  @x", "\n=1", '"=1"', "';=1", "=", "-",
]  # fmt: skip
STRING_ATTRIBUTES = ("name", "city", "email", "phone", "country", "jobTitle", "segmentHint")


def unsafe(cell: str) -> bool:
    return cell.lstrip(" ").startswith(STARTS)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "exports"


@pytest.fixture
def export_settings(settings: Settings, root: Path) -> Settings:
    return settings.model_copy(update={"export_root": root})


@pytest.fixture
def api(empty_graph: neo4j.Driver, export_settings: Settings) -> Iterator[Api]:
    with running(export_settings) as client:
        yield client


def hostile_people(count: int) -> list[dict[str, object]]:
    rng = random.Random(8)
    values = FORMULAS + payloads(200, seed=8)
    return [
        {"customerId": rng.choice(FORMULAS) + f"{i:05d}",
         **{a: rng.choice(values) for a in STRING_ATTRIBUTES}}
        for i in range(count)
    ]  # fmt: skip


def test_no_formula_cells(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings, root: Path
) -> None:
    segment = create_ok(api, name="hostile")
    crowd = hostile_people(scale(500, 5_000))
    add_members(empty_graph, segment["id"], crowd)
    columns = ",".join(STRING_ATTRIBUTES)
    response = api.client.get(f"/segments/{segment['id']}/members.csv?columns={columns}")
    assert response.status_code == 200
    streamed = list(csv.reader(io.StringIO(response.text)))
    export = create_export_ok(api, name="hostile", segmentIds=[segment["id"]],
                              columns=list(STRING_ATTRIBUTES),
                              destination={"kind": "FOLDER_CSV", "path": "safety"})  # fmt: skip
    run_ok(api, export["id"])
    drain(export_settings)
    [run] = export_by_name(api, "hostile")["runs"]
    assert run["status"] == "SUCCEEDED", run
    written = root / run["segments"][0]["file"]
    exported = list(csv.reader(written.open(encoding="utf-8", newline="")))
    bad = []
    for where, rows in (("members.csv", streamed), ("CSV export", exported)):
        assert len(rows) == len(crowd) + 1, where
        bad += [f"{where}: {c!r}" for row in rows for c in row if unsafe(c)]
    cells = (len(streamed) + len(exported)) * (len(STRING_ATTRIBUTES) + 1)
    record(TEST, "formula-injection cells (members.csv and CSV export)", cells,
           f"{len(bad)} unsafe cells", "0 unsafe cells", not bad)  # fmt: skip
    assert not bad, bad[:10]


def seed_many(driver: neo4j.Driver, segment_gid: str, count: int) -> None:
    """`count` customers with an e-mail each, all members of the segment's active version."""
    driver.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1, "
        "s.memberCount = $n", id=node_id(segment_gid), n=count,
    )  # fmt: skip
    with driver.session() as session:  # CALL IN TRANSACTIONS needs an auto-commit transaction
        session.run(
            "UNWIND range(1, $n) AS i CALL (i) { "
            "MATCH (s:_Segment {id: $id}) "
            "CREATE (p:Customer {customerId: 'k' + right('0000000' + toString(i), 8), "
            "  name: 'n' + toString(i), email: 'p' + toString(i) + '@example.com', city: 'Oslo'}) "
            "CREATE (s)-[:_MEMBER {segmentId: s.id, key: p.customerId, since: 1}]->(p) "
            "} IN TRANSACTIONS OF 20000 ROWS",
            id=node_id(segment_gid), n=count,
        ).consume()  # fmt: skip


def drop_members(driver: neo4j.Driver) -> None:
    """Member relationships in batches: wiping the graph deletes the segment node with all its
    relationships in one transaction, which a 1M-member segment makes larger than a small heap
    (Neo4j with 1 GB ran out of memory there)."""
    with driver.session() as session:
        session.run(
            "MATCH ()-[m:_MEMBER]->() CALL (m) { DELETE m } IN TRANSACTIONS OF 20000 ROWS"
        ).consume()


def test_large_stream_has_flat_memory_and_masked_pii(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings
) -> None:
    """members.csv of a big segment for a SALES key without the PII grant: every row arrives,
    every e-mail is masked, and the process (server and client in one) does not grow with the
    rows: RSS growth from 10% to 100% of the stream stays under a bound."""
    rows = scale(20_000, 1_000_000)
    segment = create_ok(api, name="big")
    try:
        seed_many(empty_graph, segment["id"], rows)
        stream(api, export_settings, segment["id"], rows)
    finally:
        drop_members(empty_graph)


def stream(api: Api, export_settings: Settings, segment_gid: str, rows: int) -> None:
    with running(export_settings) as dev:
        token = key_for(dev, "SALES")
    sales = as_key(api, token)
    process = psutil.Process()
    seen, unmasked, checkpoints = 0, 0, {}
    url = f"/segments/{segment_gid}/members.csv?columns=name,email"
    with api.client.stream("GET", url, headers=sales.headers) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines) == "key,name,email"
        for line in lines:
            if not line:
                continue
            seen += 1
            if not line.endswith(",***"):
                unmasked += 1
            if seen % (rows // 10) == 0:
                checkpoints[seen * 10 // rows] = process.memory_info().rss
    growth_mb = (checkpoints[10] - checkpoints[1]) / 2**20
    bound_mb = 64
    flat = growth_mb < bound_mb
    record(TEST, "members.csv stream for SALES: rows, unmasked PII", rows,
           f"{seen:,} rows, {unmasked} unmasked e-mails", "every row, 0 unmasked PII",
           seen == rows and unmasked == 0)  # fmt: skip
    record(TEST, "members.csv stream: RSS growth from 10% to 100% of the rows", rows,
           f"{growth_mb:+.1f} MB (RSS at 100%: {checkpoints[10] / 2**20:.0f} MB)",
           f"< {bound_mb} MB (flat)", flat)  # fmt: skip
    assert seen == rows
    assert unmasked == 0
    assert flat
