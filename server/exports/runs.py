"""Export runs in Neo4j, the history shown per export:

    (:_Export)-[:_HAS_RUN]->(:_ExportRun {id, exportId, seq, status, trigger, jobId, queuedAt,
        startedAt, finishedAt, error, segmentIds, segmentNames, rowCounts, files})

A run is recorded (QUEUED) before its job is enqueued, so a job lost with Redis is found and
queued again (`queued_runs`). Asking for a run while one is pending returns that one: a
double-click never runs twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, LiteralString

from neo4j import Record

from server.exports.records import ExportRecord, ExportRunRecord, ExportRunStatus, RunSegment
from server.exports.store import RETURN_EXPORT, to_export
from server.store.db import Db, Tx, rows

KEEP_RUNS = 100  # run history kept per export


def job_id(export_id: str, seq: int) -> str:
    return f"export:{export_id}:{seq}"


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def to_run(record: Record) -> ExportRunRecord:
    p = dict(record["r"])
    # Parallel lists (Neo4j properties hold no maps), absent until the run finishes.
    columns = [p.get(k) or [] for k in ("segmentIds", "segmentNames", "rowCounts", "files")]
    segments = tuple(
        RunSegment(segment_id=i, name=n, rows=c, file=f or None)
        for i, n, c, f in zip(*columns, strict=True)
    )
    return ExportRunRecord(
        id=p["id"], export_id=p["exportId"], seq=p["seq"], status=ExportRunStatus(p["status"]),
        trigger=p["trigger"], job_id=p["jobId"], queued_at=p["queuedAt"].to_native(),
        started_at=_native(p.get("startedAt")), finished_at=_native(p.get("finishedAt")),
        error=p.get("error"), segments=segments,
    )  # fmt: skip


async def request_run(
    db: Db, export_id: str, run_id: str, trigger: str, *, join_running: bool, now: datetime
) -> tuple[ExportRunRecord, bool] | None:
    """Record a QUEUED run, or return the pending one: (run, created). A QUEUED run always
    absorbs the request (it reads the members when it starts); a RUNNING one only when
    `join_running` (a refresh that finished after a run started needs a run of its own).
    None when the export does not exist."""
    statuses = ["QUEUED", "RUNNING"] if join_running else ["QUEUED"]

    async def work(tx: Tx) -> tuple[ExportRunRecord, bool] | None:
        # Writing the export first takes its lock: concurrent requests queue up behind it.
        locked = await rows(
            tx, "MATCH (e:_Export {id: $id}) SET e.runRequestedAt = $now RETURN e.runSeq AS seq",
            id=export_id, now=now,
        )  # fmt: skip
        if not locked:
            return None
        pending = await rows(
            tx, "MATCH (r:_ExportRun {exportId: $id}) WHERE r.status IN $statuses "
            "RETURN r ORDER BY r.seq DESC LIMIT 1",
            id=export_id, statuses=statuses,
        )  # fmt: skip
        if pending:
            return to_run(pending[0]), False
        seq = int(locked[0]["seq"] or 0) + 1
        created = await rows(
            tx,
            "MATCH (e:_Export {id: $id}) SET e.runSeq = $seq, e.lastRunStatus = 'QUEUED' "
            "CREATE (e)-[:_HAS_RUN]->(r:_ExportRun {id: $run, exportId: $id, seq: $seq, "
            " status: 'QUEUED', trigger: $trigger, jobId: $job, queuedAt: $now}) RETURN r",
            id=export_id, seq=seq, run=run_id, trigger=trigger, job=job_id(export_id, seq),
            now=now,
        )  # fmt: skip
        return to_run(created[0]), True

    return await db.write(work)


async def start_run(
    db: Db, run_id: str, now: datetime
) -> tuple[ExportRecord, ExportRunRecord] | None:
    """Mark a queued run RUNNING and return it with its export. A RUNNING one is taken over
    (its job is being retried after a crashed worker). None when the run is finished or gone:
    the job then does nothing, so running a job twice is harmless."""

    async def work(tx: Tx) -> tuple[ExportRecord, ExportRunRecord] | None:
        found = await rows(
            tx,
            "MATCH (e:_Export)-[:_HAS_RUN]->(r:_ExportRun {id: $run}) "
            "WHERE r.status IN ['QUEUED', 'RUNNING'] "
            "SET r.status = 'RUNNING', r.startedAt = $now, "
            "    e.lastRunStatus = 'RUNNING', e.lastRunAt = $now "
            "WITH e, r " + RETURN_EXPORT + ", r",
            run=run_id, now=now,
        )  # fmt: skip
        return (to_export(found[0]), to_run(found[0])) if found else None

    return await db.write(work)


async def finish_run(
    db: Db, run_id: str, status: ExportRunStatus, segments: Sequence[RunSegment],
    error: str | None, now: datetime,
) -> None:  # fmt: skip
    """Record how a run ended, on the run and as the export's last status; prune old runs."""

    async def work(tx: Tx) -> None:
        await rows(
            tx,
            "MATCH (e:_Export)-[:_HAS_RUN]->(r:_ExportRun {id: $run}) "
            "SET r.status = $status, r.finishedAt = $now, r.error = $error, "
            "    r.segmentIds = $ids, r.segmentNames = $names, r.rowCounts = $counts, "
            "    r.files = $files, e.lastRunStatus = $status, e.lastRunAt = $now "
            "WITH e CALL (e) { MATCH (e)-[:_HAS_RUN]->(old:_ExportRun) "
            "  WITH old ORDER BY old.seq DESC SKIP $keep DETACH DELETE old }",
            run=run_id, status=status.value, now=now, error=error,
            ids=[s.segment_id for s in segments], names=[s.name for s in segments],
            counts=[s.rows for s in segments], files=[s.file or "" for s in segments],
            keep=KEEP_RUNS,
        )  # fmt: skip

    await db.write(work)


_RUNS: LiteralString = "MATCH (r:_ExportRun {exportId: $id}) RETURN r ORDER BY r.seq DESC"


async def list_runs(db: Db, export_id: str, first: int) -> list[ExportRunRecord]:
    """Newest first."""
    found = await db.read(_RUNS + " LIMIT $limit", id=export_id, limit=first)
    return [to_run(r) for r in found]


async def get_run(db: Db, run_id: str) -> ExportRunRecord | None:
    found = await db.read("MATCH (r:_ExportRun {id: $id}) RETURN r", id=run_id)
    return to_run(found[0]) if found else None


async def queued_runs(db: Db) -> list[ExportRunRecord]:
    """Runs waiting for a worker (their job may have been lost)."""
    found = await db.read("MATCH (r:_ExportRun {status: 'QUEUED'}) RETURN r ORDER BY r.queuedAt")
    return [to_run(r) for r in found]
