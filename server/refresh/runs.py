"""Run history and membership over time, as domain functions the API calls.

    (:_Segment)-[:_HAS_RUN]->(:_SegmentRun {id, segmentId, status, version, baseVersion,
        definitionVersion, trigger, now, queuedAt, startedAt, finishedAt, durationMs,
        memberCount, enteredCount, exitedCount, error})

Who entered and who left in a run are not copied onto the run: they are the memberships with
`since = version` and `until = version`, exact for every version still kept (retention), and
the membership as of a past run is the usual interval test at that run's version.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, LiteralString

from neo4j import Record

from server.refresh.graph import Graph, Tx, rows
from server.refresh.records import Growth, RunRecord, RunStatus, TrendPoint
from server.refresh.spans import member_at
from server.store.version_scan import Checked, check_keys, checked_read


def _native(value: Any) -> Any:
    return None if value is None else value.to_native()


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def to_run(record: Record) -> RunRecord:
    r = record["r"]
    return RunRecord(
        id=r["id"],
        segment_id=r["segmentId"],
        status=RunStatus(r["status"]),
        version=_int(r.get("version")),
        base_version=_int(r.get("baseVersion")),
        definition_version=int(r.get("definitionVersion") or 0),
        trigger=r.get("trigger") or "MANUAL",
        now=_native(r.get("now") or r.get("startedAt")),
        queued_at=_native(r.get("queuedAt")),
        started_at=_native(r.get("startedAt")),
        finished_at=_native(r.get("finishedAt")),
        duration_ms=_int(r.get("durationMs")),
        member_count=_int(r.get("memberCount")),
        entered_count=_int(r.get("enteredCount")),
        exited_count=_int(r.get("exitedCount")),
        error=r.get("error"),
    )


async def list_runs(graph: Graph, segment_id: str, limit: int = 100) -> list[RunRecord]:
    """The segment's runs, newest first."""
    records = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id}) RETURN r ORDER BY r.startedAt DESC LIMIT $n",
        id=segment_id,
        n=limit,
    )
    return [to_run(r) for r in records]


async def get_run(graph: Graph, run_id: str) -> RunRecord | None:
    records = await graph.read("MATCH (r:_SegmentRun {id: $id}) RETURN r", id=run_id)
    return to_run(records[0]) if records else None


async def last_successful_run(graph: Graph, segment_id: str) -> RunRecord | None:
    records = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id, status: 'SUCCESSFUL'}) "
        "RETURN r ORDER BY r.version DESC LIMIT 1",
        id=segment_id,
    )
    return to_run(records[0]) if records else None


async def _keys(
    graph: Graph, query: LiteralString, segment_id: str, version: int, first: int, after: Any
) -> list[Any]:
    records = await graph.read(
        query + " AND ($after IS NULL OR m.key > $after) "
        "RETURN m.key AS key ORDER BY m.key LIMIT $first",
        id=segment_id,
        version=version,
        after=after,
        first=first,
    )
    return [r["key"] for r in records]


async def entered_keys(
    graph: Graph, segment_id: str, version: int, first: int = 100, after: Any = None
) -> list[Any]:
    """Keys that entered in the run that wrote `version` (keyset page after `after`)."""
    return await _keys(
        graph,
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.since = $version",
        segment_id, version, first, after,
    )  # fmt: skip


async def exited_keys(
    graph: Graph, segment_id: str, version: int, first: int = 100, after: Any = None
) -> list[Any]:
    """Keys that left in the run that wrote `version` (keyset page after `after`)."""
    return await _keys(
        graph,
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.until = $version",
        segment_id, version, first, after,
    )  # fmt: skip


# The page walks the (segmentId, key) index in order and stops after `first` rows. Both the
# hint and `ORDER BY m.segmentId, m.key` are needed: without them the planner prefers the
# (segmentId, since/until) indexes, reads the whole segment and sorts it (60k db hits instead
# of 300 for a 20k-member page, measured with PROFILE). The version is a parameter for the
# same reason; readers of the active version fetch it first (`active_version`).
_PAGE_MATCH: LiteralString = (
    "MATCH ()-[m:_MEMBER]->() USING INDEX m:_MEMBER(segmentId, key) "
    "WHERE m.segmentId = $id AND " + member_at("$version") + " "
)
_PAGE_END: LiteralString = "RETURN m.key AS key ORDER BY m.segmentId, m.key LIMIT $first"


async def members_as_of(
    graph: Graph, segment_id: str, version: int, first: int = 100, after: Any = None
) -> list[Any]:
    """Member keys of version `version` (any kept run's, or the active one), keyset-paged,
    checked like every version scan (server.store.version_scan). Raises ScanInconsistent."""
    if after is None:  # a separate form: `$after IS NULL OR ...` defeats the index hint
        query: LiteralString = _PAGE_MATCH + "AND m.key IS NOT NULL " + _PAGE_END
    else:
        query = _PAGE_MATCH + "AND m.key > $after " + _PAGE_END

    async def read() -> list[Any]:
        records = await graph.read(query, id=segment_id, version=version, first=first,
                                   after=after)  # fmt: skip
        return [r["key"] for r in records]

    async def check(keys: list[Any]) -> Checked:
        # Only a page holding the whole version can be held to the version's count (a run's
        # `memberCount`; none is kept for a version a manual edit wrote).
        whole = after is None and len(keys) < first
        count = await _version_count(graph, segment_id, version) if whole else None
        return version, check_keys(keys, after=after, count=count)

    return await checked_read("members as of a run", segment_id, read, check)


async def _version_count(graph: Graph, segment_id: str, version: int) -> int | None:
    found = await graph.read(
        "MATCH (s:_Segment {id: $id}) "
        "OPTIONAL MATCH (r:_SegmentRun {segmentId: $id, version: $v, status: 'SUCCESSFUL'}) "
        "RETURN CASE WHEN coalesce(s.activeVersion, 0) = $v THEN s.memberCount "
        "  ELSE r.memberCount END AS n LIMIT 1",
        id=segment_id, v=version,
    )  # fmt: skip
    n = found[0]["n"] if found else None
    return None if n is None else int(n)


async def active_version(graph: Graph, segment_id: str) -> int | None:
    """The version readers follow now, None for an unknown segment."""
    records = await graph.read(
        "MATCH (s:_Segment {id: $id}) RETURN s.activeVersion AS v", id=segment_id
    )
    return int(records[0]["v"] or 0) if records else None


async def trend(graph: Graph, segment_id: str, start: datetime, end: datetime) -> list[TrendPoint]:
    """Member count of each successful run finished in [start, end], oldest first."""
    records = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id, status: 'SUCCESSFUL'}) "
        "WHERE r.finishedAt >= $start AND r.finishedAt <= $end "
        "RETURN r.finishedAt AS at, r.memberCount AS n, r.version AS v ORDER BY r.version",
        id=segment_id,
        start=start,
        end=end,
    )
    return [
        TrendPoint(at=r["at"].to_native(), member_count=r["n"], version=r["v"]) for r in records
    ]


async def growth(
    graph: Graph, segment_id: str, now: datetime, window: timedelta = timedelta(days=7)
) -> Growth | None:
    """Member count of the latest successful run against the latest one at or before
    `now - window` (the oldest run inside the window when none is older); None without runs."""
    since = now - window
    records = await graph.read(
        "MATCH (r:_SegmentRun {segmentId: $id, status: 'SUCCESSFUL'}) WHERE r.finishedAt <= $now "
        "WITH r ORDER BY r.version "
        "WITH collect(r) AS runs WHERE size(runs) > 0 "
        "WITH runs, [x IN runs WHERE x.finishedAt <= $since] AS before "
        "RETURN runs[-1].memberCount AS current, "
        "  CASE WHEN size(before) > 0 THEN before[-1].memberCount "
        "       ELSE runs[0].memberCount END AS previous",
        id=segment_id,
        now=now,
        since=since,
    )
    if not records:
        return None
    return Growth(current=records[0]["current"], previous=records[0]["previous"], since=since)


# The version of the `$skip + 1`-th newest successful run of segment `id`, or an older one: the
# newest whose run finished (switched) at least `$grace` ms ago. A membership that ended at or
# before version X is visible only to versions older than X, which every reader stopped binding
# when X was switched: with the grace, no query that started less than `$grace` ms ago can
# still be reading it. (Neo4j's clock, as it stamps `finishedAt`.)
OLDEST_KEPT: LiteralString = (
    "MATCH (r:_SegmentRun {segmentId: id, status: 'SUCCESSFUL'}) "
    "WITH r.version AS v, r.finishedAt AS at ORDER BY v DESC "
    "WITH collect([v, at]) AS runs, datetime() - duration({milliseconds: $grace}) AS settled "
    "WITH runs[$skip][0] AS kept, [x IN runs WHERE x[1] <= settled | x[0]][0] AS old "
    "WITH CASE WHEN old IS NULL OR kept IS NULL THEN null WHEN old < kept THEN old ELSE kept "
    "  END AS oldest WHERE oldest IS NOT NULL "
    "RETURN oldest"
)


async def oldest_kept_version(
    graph: Graph, segment_id: str, keep: int, grace_s: float = 0.0
) -> int | None:
    """The version of the `keep`-th newest successful run, or an older one when that was
    replaced less than `grace_s` ago: memberships that ended at or before it are invisible to
    every kept version and to every read started within the grace. None while no run
    qualifies."""
    records = await graph.read(
        "WITH $id AS id " + OLDEST_KEPT, id=segment_id, skip=keep - 1, grace=round(grace_s * 1000)
    )
    return int(records[0]["oldest"]) if records else None


async def prune_runs(graph: Graph, segment_id: str, keep: int) -> int:
    """Delete all but the newest `keep` runs of a segment (the trend's horizon); returns how
    many went."""

    async def work(tx: Tx) -> int:
        found = await rows(
            tx,
            "MATCH (r:_SegmentRun {segmentId: $id}) WITH r ORDER BY r.startedAt DESC "
            "SKIP $keep DETACH DELETE r RETURN count(*) AS n",
            id=segment_id,
            keep=keep,
        )
        return int(found[0]["n"])

    return await graph.write(work)
