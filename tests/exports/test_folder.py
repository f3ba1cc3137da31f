"""Folder destinations: CSV and Parquet files hold exactly the segment's members with the
chosen columns, written atomically under the export root; paths cannot leave the root."""

from __future__ import annotations

import asyncio
import csv
import os
from pathlib import Path
from typing import Any

import neo4j
import pyarrow as pa
import pyarrow.parquet as pq

from graph_schema import default_schema
from server.exports.runner import ExportEnv
from server.settings import Settings
from server.store.db import Db
from server.worker import run_export
from tests.api.conftest import Api, codes, create_ok
from tests.api.test_members import node_id
from tests.exports.conftest import (
    add_members,
    create_export,
    create_export_ok,
    drain,
    export_by_name,
    people,
    run_ok,
)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_csv_export_writes_each_segments_members(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings, root: Path
) -> None:
    oslo = create_ok(api, name="oslo")
    small = create_ok(api, name="small")
    crowd = people("c", 2500)
    crowd[6]["name"] = '=HYPERLINK("http://x")'
    add_members(empty_graph, oslo["id"], crowd)
    add_members(empty_graph, small["id"], people("s", 3, city="-Bergen"))
    export = create_export_ok(
        api, name="weekly", segmentIds=[oslo["id"], small["id"]], columns=["name", "CITY"],
        destination={"kind": "FOLDER_CSV", "path": "crm/weekly"},
    )  # fmt: skip
    assert export["columns"] == ["name", "city"]

    first = run_ok(api, export["id"])
    again = run_ok(api, export["id"])  # a double-click: the queued run absorbs it
    assert (first["queued"], again["queued"]) == (True, False)
    assert again["run"] == first["run"]
    assert export_by_name(api, "weekly")["status"] == "QUEUED"
    assert first["run"]["jobId"] == f"export:{node_id(export['id'])}:1"
    drain(export_settings)

    found = export_by_name(api, "weekly")
    assert found["status"] == "SUCCEEDED"
    [run] = found["runs"]
    assert (run["status"], run["trigger"], run["rows"], run["error"]) == (
        "SUCCEEDED", "MANUAL", 2503, None,
    )  # fmt: skip
    assert [(s["name"], s["rows"]) for s in run["segments"]] == [("oslo", 2500), ("small", 3)]
    assert [s["segmentId"] for s in run["segments"]] == [oslo["id"], small["id"]]
    written = [root / s["file"] for s in run["segments"]]
    assert _files(root) == sorted(str(p.relative_to(root)) for p in written)
    assert written[0].parent == root / "crm" / "weekly" / "weekly" / "oslo"

    rows = list(csv.reader(written[0].open(encoding="utf-8", newline="")))
    assert rows[0] == ["key", "name", "city"]
    assert [r[0] for r in rows[1:]] == sorted(p["customerId"] for p in crowd)
    assert rows[1] == ["c00001", "n1", "Oslo"]
    assert rows[7][1] == '\'=HYPERLINK("http://x")'  # formula-safe, as members.csv
    small_rows = list(csv.reader(written[1].open(encoding="utf-8", newline="")))
    assert small_rows[1:] == [[f"s0000{i}", f"n{i}", "'-Bergen"] for i in (1, 2, 3)]

    # The job delivered again (arq runs at least once) finds the run finished: a no-op.
    stamp = written[0].stat().st_mtime_ns
    assert asyncio.run(_run_again(export_settings, node_id(first["run"]["id"]))) is None
    assert written[0].stat().st_mtime_ns == stamp
    assert len(export_by_name(api, "weekly")["runs"]) == 1


async def _run_again(settings: Settings, run_id: str) -> dict[str, Any] | None:
    auth = (settings.neo4j_user, settings.neo4j_password)
    driver = neo4j.AsyncGraphDatabase.driver(settings.neo4j_uri, auth=auth)
    env = ExportEnv(db=Db(driver, settings.neo4j_database), schema=default_schema(),
                    root=settings.exports_dir)  # fmt: skip
    try:
        return await run_export({"export_env": env}, run_id)
    finally:
        await driver.close()


def test_parquet_export_is_typed_and_written_in_row_groups(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings, root: Path
) -> None:
    seg = create_ok(api, name="oslo")
    crowd = people("c", 1500, newsletter=True, creditBalance=1.5)
    add_members(empty_graph, seg["id"], crowd)
    export = create_export_ok(
        api, name="lake", segmentIds=[seg["id"]],
        columns=["satisfaction", "newsletter", "creditBalance", "name"],
        destination={"kind": "FOLDER_PARQUET", "path": "lake"},
    )  # fmt: skip
    run_ok(api, export["id"])
    drain(export_settings, batch_size=700)

    [run] = export_by_name(api, "lake")["runs"]
    assert run["status"] == "SUCCEEDED"
    parquet = pq.ParquetFile(root / run["segments"][0]["file"])
    assert parquet.metadata.num_row_groups == 3  # 700 + 700 + 100: one per batch
    table = parquet.read()
    assert table.schema == pa.schema([
        ("key", pa.string()), ("satisfaction", pa.int64()), ("newsletter", pa.bool_()),
        ("creditBalance", pa.float64()), ("name", pa.string()),
    ])  # fmt: skip
    assert table.column("key").to_pylist() == [p["customerId"] for p in crowd]
    assert table.column("satisfaction").to_pylist() == list(range(1, 1501))
    assert set(table.column("newsletter").to_pylist()) == {True}


def test_a_failed_run_leaves_nothing_in_the_folder(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings, root: Path
) -> None:
    good = create_ok(api, name="good")
    bad = create_ok(api, name="bad")
    add_members(empty_graph, good["id"], people("g", 900))
    # A value that does not fit the schema's integer type, in the second segment's 2nd batch.
    add_members(empty_graph, bad["id"], [*people("b", 800), {"customerId": "b99999",
                                                           "satisfaction": "very"}])  # fmt: skip
    export = create_export_ok(
        api, name="broken", segmentIds=[good["id"], bad["id"]], columns=["satisfaction"],
        destination={"kind": "FOLDER_PARQUET"},
    )  # fmt: skip
    run_ok(api, export["id"])
    drain(export_settings)

    found = export_by_name(api, "broken")
    [run] = found["runs"]
    assert run["status"] == "FAILED"
    assert run["error"]
    assert "Arrow" in run["error"]
    assert (run["segments"], run["finishedAt"] is not None) == ([], True)
    assert found["status"] == "FAILED"
    assert _files(root) == []  # neither the finished first file nor the partial second


def test_paths_are_confined_to_the_export_root(
    api: Api, empty_graph: neo4j.Driver, export_settings: Settings, root: Path, tmp_path: Path
) -> None:
    seg = create_ok(api, name="oslo")
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    os.symlink(outside, root / "link")
    for path in ("../x", "a/../../x", "/etc", str(outside), "link", "link/deeper"):
        payload = create_export(
            api, name="escape", segmentIds=[seg["id"]],
            destination={"kind": "FOLDER_CSV", "path": path},
        )  # fmt: skip
        assert codes(payload) == [("PATH_OUTSIDE_EXPORT_ROOT", ["input", "destination", "path"])]

    # A symlink swapped in after the export was saved is caught when it runs.
    add_members(empty_graph, seg["id"], people("c", 5))
    export = create_export_ok(
        api, name="later", segmentIds=[seg["id"]], destination={"kind": "FOLDER_CSV",
                                                               "path": "later"},
    )  # fmt: skip
    os.symlink(outside, root / "later")
    run_ok(api, export["id"])
    drain(export_settings)
    [run] = export_by_name(api, "later")["runs"]
    assert run["status"] == "FAILED"
    assert "outside the export root" in run["error"]
    assert _files(outside) == []
