"""Run Neo4j's offline bulk importer (`neo4j-admin database import full`) on our store.

The importer ships in the jars we already fetch (neo4j-command-line, neo4j-import-tool); it is
run with the same NEO4J_HOME as our launcher, so it writes the store our Neo4j opens next.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graph_schema.bulk_input import ImportFile
from graph_schema.import_report import FileKind
from server.services.neo4j import JVM_OPTIONS, fetch, find_java, home_dir, library_dir
from server.services.process import ServiceError
from server.settings import Settings

ADMIN_TOOL = "org.neo4j.cli.AdminTool"
UNLIMITED_BAD_ENTRIES = 1 << 40  # a non-strict import skips every bad entry, as ours does


@dataclass(frozen=True, slots=True)
class AdminImport:
    files: Sequence[ImportFile]
    report_file: Path
    strict: bool = False


def import_arguments(settings: Settings, job: AdminImport) -> list[str]:
    """The AdminTool command line after the class name."""
    args = [
        "database", "import", "full", settings.neo4j_database,
        "--overwrite-destination=true",
        f"--report-file={job.report_file}",
        f"--max-off-heap-memory={settings.neo4j_pagecache_mb}m",
        # Our files say which keys are which; never guess.
        "--ignore-empty-strings=false", "--trim-strings=false", "--normalize-types=true",
    ]  # fmt: skip
    if job.strict:
        args += ["--bad-tolerance=0"]
    else:
        args += [
            f"--bad-tolerance={UNLIMITED_BAD_ENTRIES}",
            "--skip-bad-relationships=true",
            "--skip-duplicate-nodes=true",
        ]
    for f in job.files:
        option = "--nodes" if f.kind is FileKind.NODES else "--relationships"
        args.append(f"{option}={f.name}={f.path}")
    multiline = [str(f.path) for f in job.files if f.multiline]
    if multiline:
        args += ["--multiline-fields-format=v2", f"--multiline-fields={','.join(multiline)}"]
    return args


def run_import(settings: Settings, job: AdminImport, on_line: Callable[[str], None]) -> None:
    """Run the importer with Neo4j stopped; each output line goes to `on_line`.

    Raises ServiceError with the importer's last lines when it fails.
    """
    classes = fetch(settings)
    home = home_dir(settings)
    home.mkdir(parents=True, exist_ok=True)
    heap = settings.neo4j_heap
    argv = [find_java(), f"-Xmx{heap}", *(o for o in JVM_OPTIONS if o != "-XX:+AlwaysPreTouch")]
    argv += ["-cp", f"{classes}:{library_dir(settings)}/*", ADMIN_TOOL]
    argv += import_arguments(settings, job)
    env = {**os.environ, "NEO4J_HOME": str(home)}
    tail: list[str] = []
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            text = line.rstrip("\n")
            tail = [*tail[-29:], text]
            on_line(text)
    if proc.returncode != 0:
        last = "\n".join(t for t in tail if not t.lstrip().startswith("at "))
        raise ServiceError(f"neo4j-admin import failed (exit {proc.returncode}):\n{last}")


def discard_store(settings: Settings) -> None:
    """Delete the database's files, which a failed import leaves unusable: Neo4j then starts
    with that database empty instead of unavailable."""
    data = home_dir(settings) / "data"
    for kind in ("databases", "transactions"):
        shutil.rmtree(data / kind / settings.neo4j_database, ignore_errors=True)


def store_exists(settings: Settings) -> bool:
    return (home_dir(settings) / "data" / "databases" / settings.neo4j_database).is_dir()
