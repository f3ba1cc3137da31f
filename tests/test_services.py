"""The local service manager against the real binaries: start, status, stop, and its errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from server.services import ServiceError
from server.services import neo4j as neo4j_service
from server.services import redis as redis_service
from server.settings import Settings, get_settings
from tests.reliability.processes import free_port


@pytest.fixture
def isolated(tmp_path: Path) -> Settings:
    """Settings for a second Neo4j and Redis on free ports and a throwaway data folder.

    The engine jars come from the shared cache so the test does not download them again.
    """
    base = get_settings()
    return base.model_copy(
        update={
            "neo4j_uri": f"bolt://127.0.0.1:{free_port()}",
            "redis_url": f"redis://127.0.0.1:{free_port()}/0",
            "data_dir": tmp_path / "data",
            "neo4j_heap": "512m",
            "neo4j_pagecache_mb": 128,
            "neo4j_tx_memory_mb": 256,
        }
    )


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_redis_start_status_stop(isolated: Settings) -> None:
    assert not redis_service.status(isolated).running
    started = redis_service.start(isolated)
    try:
        assert started.running
        assert started.pid is not None
        assert redis_service.start(isolated).pid == started.pid  # idempotent
    finally:
        assert redis_service.stop(isolated)
    assert not redis_service.status(isolated).running
    assert not redis_service.stop(isolated)


def test_neo4j_start_status_stop(isolated: Settings) -> None:
    started = neo4j_service.start(isolated)
    try:
        assert started.running
        with neo4j.GraphDatabase.driver(
            isolated.neo4j_uri, auth=(isolated.neo4j_user, isolated.neo4j_password)
        ) as driver:
            records = driver.execute_query(
                "CALL dbms.components() YIELD name, versions, edition "
                "RETURN name, versions[0] AS version, edition"
            ).records
        assert records[0]["edition"] == "community"
        assert records[0]["version"] == isolated.neo4j_version
    finally:
        assert neo4j_service.stop(isolated)
    assert not neo4j_service.status(isolated).running


def test_port_taken_is_a_clear_error(isolated: Settings, listener: int) -> None:
    taken = isolated.model_copy(update={"redis_url": f"redis://127.0.0.1:{listener}/0"})
    with pytest.raises(ServiceError, match="taken"):
        redis_service.start(taken)
    status = redis_service.status(taken)
    assert not status.running
    assert "not ours" in status.detail


def test_missing_binary_is_a_clear_error(
    isolated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no redis-server on it
    with pytest.raises(ServiceError, match="redis-server"):
        redis_service.start(isolated)


def test_remote_addresses_are_not_started(isolated: Settings) -> None:
    remote = isolated.model_copy(update={"neo4j_uri": "neo4j://db.example.internal:7687"})
    with pytest.raises(ServiceError, match="yourself"):
        neo4j_service.start(remote)


def test_load_csv_is_confined_to_the_import_folder(
    neo4j_driver: neo4j.Driver, tmp_path: Path
) -> None:
    """LOAD CSV resolves file URLs inside the server's import folder, never the whole disk."""
    records = neo4j_driver.execute_query(
        "SHOW SETTINGS YIELD name, value WHERE name = 'server.directories.import' RETURN value"
    ).records
    folder = Path(records[0]["value"])
    inside = folder / "confinement-probe.csv"
    outside = tmp_path / "outside.csv"
    for path in (inside, outside):
        path.write_text("a\n1\n")
    query = "LOAD CSV FROM $url AS row RETURN count(*) AS c"
    try:
        rows = neo4j_driver.execute_query(query, url=f"file:///{inside.name}").records
        assert rows[0]["c"] == 2
        with pytest.raises(neo4j.exceptions.Neo4jError):
            neo4j_driver.execute_query(query, url=f"file://{outside}")
    finally:
        inside.unlink()
