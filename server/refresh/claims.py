"""Who may write a segment's next membership version: claim, lease, fence, switch, release.

A run claims a segment in one small transaction (`pendingRun`, `pendingVersion`, `leaseUntil`
on `_Segment`), renews the lease while it works, and every write it makes first takes the
segment node's write lock and re-checks `pendingRun` (the fence). Taking the lock before the
check matters: Neo4j reads are read-committed, so a check without the lock could pass just
before another run's claim commits. A newer claim therefore stops an older writer at its next
batch, and the switch of `activeVersion` is a compare-and-set on the claim and base version, so
an older job finishing late never overwrites a newer membership.

Lease times are the database's `datetime()`, one clock for every worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, LiteralString

from server.refresh.graph import Graph, Tx, rows
from server.refresh.records import Claim, RunStatus

# Taking the segment's write lock first, then filtering on the claim: the fence.
LOCK_AND_FENCE: LiteralString = (
    "MATCH (s:_Segment {id: $id}) SET s.refreshTouchedAt = datetime() "
    "WITH s WHERE s.pendingRun = $run "
)


async def holds_claim(tx: Tx, claim: Claim) -> bool:
    """Take the segment's write lock and check the claim is still this run's (the fence).
    The lock is held until the transaction ends, so the rest of it is fenced too."""
    return bool(
        await rows(tx, LOCK_AND_FENCE + "RETURN true", id=claim.segment_id, run=claim.run_id)
    )


async def discard_aborted_versions(tx: Tx, segment_id: str) -> bool:
    """For other writers of memberships (a static segment's manual edit), inside their write
    transaction and before they allocate a version: False while a refresh holds a live claim
    (the caller refuses or retries: busy); otherwise ends any lapsed claim and undoes what an
    aborted refresh wrote beyond the active version, so the caller's new version cannot
    adopt it. Takes the segment's write lock (held until the caller's transaction ends)."""
    found = await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) SET s.refreshTouchedAt = datetime() "
        "RETURN s.pendingRun IS NOT NULL AND s.leaseUntil >= datetime() AS busy, "
        "  coalesce(s.activeVersion, 0) AS active",
        id=segment_id,
    )
    if not found:
        return True
    if found[0]["busy"]:
        return False
    await rows(
        tx,
        "MATCH (s:_Segment {id: $id}) SET s.pendingRun = null, s.pendingVersion = null, "
        "  s.leaseUntil = null "
        "WITH s MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.since > $active "
        "DELETE m",
        id=segment_id,
        active=found[0]["active"],
    )
    await rows(
        tx,
        "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.until > $active SET m.until = null",
        id=segment_id,
        active=found[0]["active"],
    )
    return True


class SegmentMissing(Exception):
    """No `_Segment` has this id."""


class SegmentBusy(Exception):
    """Another run holds an unexpired claim on this segment."""


class RequestCancelled(Exception):
    """The segment's refresh was cancelled before or while this run worked."""


class ClaimLost(Exception):
    """This run's claim was taken over (its lease expired) or the base version moved."""


async def claim_segment(
    graph: Graph, segment_id: str, run_id: str, *, lease_ms: int, run_props: dict[str, Any]
) -> Claim:
    """Claim the next version and create the run node (REFRESHING) in one transaction.

    Raises SegmentMissing, SegmentBusy, RequestCancelled.
    """

    async def work(tx: Tx) -> Claim:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) SET s.refreshTouchedAt = datetime() "
            "RETURN s.pendingRun AS pending, s.pendingRun = $run AS ours, "
            "  coalesce(s.leaseUntil < datetime(), true) AS expired, s.status AS status, "
            "  coalesce(s.activeVersion, 0) AS active, "
            "  coalesce(s.versionSeq, s.activeVersion, 0) AS seq",
            id=segment_id,
            run=run_id,
        )
        if not found:
            raise SegmentMissing(segment_id)
        row = found[0]
        if row["pending"] is not None and not row["ours"] and not row["expired"]:
            raise SegmentBusy(segment_id)
        if row["status"] == RunStatus.CANCELLED:
            raise RequestCancelled(segment_id)
        version = max(int(row["seq"]), int(row["active"])) + 1
        if row["pending"] is not None and not row["ours"]:  # its worker died or stalled
            await rows(
                tx,
                "MATCH (r:_SegmentRun {id: $old}) WHERE r.finishedAt IS NULL "
                "SET r.status = 'FAILED', r.error = 'worker lost (lease expired)', "
                "    r.finishedAt = datetime()",
                old=row["pending"],
            )
        await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) "
            "SET s.pendingRun = $run, s.pendingVersion = $version, s.versionSeq = $version, "
            "    s.leaseUntil = datetime() + duration({milliseconds: $lease}), "
            "    s.status = 'REFRESHING', s.statusDetail = null, s.refreshPending = false "
            "CREATE (s)-[:_HAS_RUN]->(r:_SegmentRun) "
            "SET r = $props, r.id = $run, r.segmentId = $id, r.status = 'REFRESHING', "
            "    r.version = $version, r.baseVersion = $active, r.startedAt = datetime(), "
            "    r.queuedAt = s.refreshQueuedAt",
            id=segment_id,
            run=run_id,
            version=version,
            lease=lease_ms,
            active=int(row["active"]),
            props=run_props,
        )
        active = int(row["active"])
        return Claim(segment_id=segment_id, run_id=run_id, version=version, base=active,
                     dirty=int(row["seq"]) > active)  # fmt: skip

    return await graph.write(work)


async def renew_lease(graph: Graph, claim: Claim, *, lease_ms: int) -> None:
    """Extend the lease. Raises ClaimLost when the claim is gone, RequestCancelled when the
    segment's refresh was cancelled meanwhile."""

    async def work(tx: Tx) -> str | None:
        found = await rows(
            tx,
            "MATCH (s:_Segment {id: $id}) WHERE s.pendingRun = $run "
            "SET s.leaseUntil = datetime() + duration({milliseconds: $lease}) "
            "RETURN s.status AS status",
            id=claim.segment_id,
            run=claim.run_id,
            lease=lease_ms,
        )
        return str(found[0]["status"]) if found else None

    status = await graph.write(work)
    if status is None:
        raise ClaimLost(claim.run_id)
    if status == RunStatus.CANCELLED:
        raise RequestCancelled(claim.segment_id)


async def switch_version(
    graph: Graph, claim: Claim, *, definition_version: int, counts: dict[str, int]
) -> datetime:
    """Make the claimed version active and finish the run, in one small transaction.

    Returns the finish time. Raises RequestCancelled or ClaimLost (nothing changed then).
    """

    async def work(tx: Tx) -> tuple[str | None, datetime | None]:
        found = await rows(
            tx,
            LOCK_AND_FENCE + "RETURN s.status AS status, s.activeVersion AS active",
            id=claim.segment_id,
            run=claim.run_id,
        )
        if not found or found[0]["active"] != claim.base:
            return None, None
        if found[0]["status"] != RunStatus.REFRESHING:
            return str(found[0]["status"]), None
        done = await rows(
            tx,
            "MATCH (s:_Segment {id: $id})-[:_HAS_RUN]->(r:_SegmentRun {id: $run}) "
            "WITH s, r, datetime() AS now "
            "SET s.activeVersion = $version, s.activeDefinitionVersion = $definition, "
            "    s.pendingRun = null, s.pendingVersion = null, s.leaseUntil = null, "
            "    s.status = 'SUCCESSFUL', s.statusDetail = null, s.lastRefreshedAt = now, "
            "    s.memberCount = $counts.members, "
            "    r.status = 'SUCCESSFUL', r.finishedAt = now, "
            "    r.durationMs = now.epochMillis - r.startedAt.epochMillis, "
            "    r.memberCount = $counts.members, r.enteredCount = $counts.entered, "
            "    r.exitedCount = $counts.exited "
            "RETURN now",
            id=claim.segment_id,
            run=claim.run_id,
            version=claim.version,
            definition=definition_version,
            counts=counts,
        )
        return RunStatus.SUCCESSFUL, done[0]["now"].to_native()

    status, finished = await graph.write(work)
    if status is None:
        raise ClaimLost(claim.run_id)
    if finished is None:
        raise RequestCancelled(claim.segment_id)
    return finished


async def release_claim(
    graph: Graph, claim: Claim, status: RunStatus, detail: str,
    segment_status: RunStatus | None = None,
) -> None:  # fmt: skip
    """End a run that did not switch: the run gets `status`, the segment (if still ours)
    `segment_status` (default the same; QUEUED also marks the request pending again).

    A segment already marked CANCELLED keeps that status. The versions it half-wrote stay
    invisible (beyond `activeVersion`) and are cleaned by the next claim.
    """
    shown = segment_status or status

    async def work(tx: Tx) -> None:
        await rows(
            tx,
            "MATCH (r:_SegmentRun {id: $run}) WHERE r.finishedAt IS NULL "
            "SET r.status = $status, r.error = $detail, r.finishedAt = datetime(), "
            "    r.durationMs = datetime().epochMillis - r.startedAt.epochMillis",
            run=claim.run_id,
            status=status,
            detail=detail,
        )
        await rows(
            tx,
            LOCK_AND_FENCE
            + "SET s.pendingRun = null, s.pendingVersion = null, s.leaseUntil = null, "
            "    s.statusDetail = $detail, s.refreshPending = ($shown = 'QUEUED'), "
            "    s.status = CASE s.status WHEN 'CANCELLED' THEN 'CANCELLED' ELSE $shown END",
            id=claim.segment_id,
            run=claim.run_id,
            shown=shown,
            detail=detail,
        )

    await graph.write(work)
