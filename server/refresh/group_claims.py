"""Claims, fences and switches of several segments at once, each in one transaction: the keyed
refreshes of one live change (server.refresh.keyed) claim every segment together and make all
of their new versions visible together.

The same model as claims.py, per segment: `pendingRun` / `pendingVersion` / `leaseUntil` on
`_Segment`, a `_SegmentRun` per claim, every write fenced by the segment node's write lock and
the claim, the switch a compare-and-set on the claim and base version. Only segments in a clean
state are claimed here (no claim pending, no version left by an aborted run, not cancelled); the
caller takes the others through `refresh_segment`, which waits, takes over and cleans up.
Rows are sorted by segment id so that concurrent writers lock segments in one order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, LiteralString

from server.refresh.graph import Graph, Tx, rows, with_identifiers
from server.refresh.records import Claim, Diff, MemberQuery, RunStatus
from server.refresh.runs import OLDEST_KEPT
from server.refresh.spans import member_at


@dataclass(frozen=True, slots=True)
class Wanted:
    """A claim to take: the segment, the new run's id and its recorded properties."""

    segment_id: str
    run_id: str
    props: dict[str, Any]


_CLAIM_CLEAN: LiteralString = (
    "UNWIND $rows AS row MATCH (s:_Segment {id: row.id}) SET s.refreshTouchedAt = datetime() "
    "WITH s, row, coalesce(s.activeVersion, 0) AS active, "
    "  coalesce(s.versionSeq, s.activeVersion, 0) AS seq "
    "WHERE s.pendingRun IS NULL AND seq <= active AND coalesce(s.status, '') <> 'CANCELLED' "
    "SET s.pendingRun = row.run, s.pendingVersion = active + 1, s.versionSeq = active + 1, "
    "    s.leaseUntil = datetime() + duration({milliseconds: $lease}), "
    "    s.status = 'REFRESHING', s.statusDetail = null, s.refreshPending = false "
    "CREATE (s)-[:_HAS_RUN]->(r:_SegmentRun) "
    "SET r = row.props, r.id = row.run, r.segmentId = row.id, r.status = 'REFRESHING', "
    "    r.version = active + 1, r.baseVersion = active, r.startedAt = datetime(), "
    "    r.queuedAt = s.refreshQueuedAt "
    "RETURN row.id AS id, active"
)


async def claim_clean(graph: Graph, wanted: Sequence[Wanted], *, lease_ms: int) -> dict[str, Claim]:
    """Claim, in one transaction, each of `wanted` whose segment is in a clean state; returns
    the claims taken by segment id (the others are left untouched)."""
    by_id = {w.segment_id: w for w in wanted}
    payload = [{"id": w.segment_id, "run": w.run_id, "props": w.props}
               for w in sorted(wanted, key=lambda w: w.segment_id)]  # fmt: skip

    async def work(tx: Tx) -> dict[str, Claim]:
        found = await rows(tx, _CLAIM_CLEAN, rows=payload, lease=lease_ms)
        return {
            r["id"]: Claim(segment_id=r["id"], run_id=by_id[r["id"]].run_id,
                           version=int(r["active"]) + 1, base=int(r["active"]), dirty=False)
            for r in found
        }  # fmt: skip

    return await graph.write(work) if payload else {}


async def renew_leases(graph: Graph, claims: Sequence[Claim], *, lease_ms: int) -> None:
    """Extend the leases still held; a lost or cancelled claim shows at the switch's fence."""
    payload = _claim_rows(claims)

    async def work(tx: Tx) -> None:
        await rows(
            tx,
            "UNWIND $rows AS row MATCH (s:_Segment {id: row.id}) WHERE s.pendingRun = row.run "
            "SET s.leaseUntil = datetime() + duration({milliseconds: $lease})",
            rows=payload, lease=lease_ms,
        )  # fmt: skip

    await graph.write(work)


async def active_among(
    graph: Graph, wanted: Sequence[tuple[Claim, list[Any]]]
) -> dict[str, set[Any]]:
    """For each (claim, keys): which of the keys are members of the claim's base version, in
    one query (one index seek per key)."""
    payload = [{"id": c.segment_id, "base": c.base, "keys": keys} for c, keys in wanted]
    found = await graph.read(
        "UNWIND $rows AS row CALL (row) { "
        "  UNWIND row.keys AS k MATCH ()-[m:_MEMBER {segmentId: row.id, key: k}]->() "
        "  WHERE " + member_at("row.base") + " "
        "  RETURN collect(m.key) AS keys } "
        "RETURN row.id AS id, keys",
        rows=payload,
    )
    return {r["id"]: set(r["keys"]) for r in found}


@dataclass(frozen=True, slots=True)
class Switch:
    """A claimed segment's evaluated change, ready to become its active version."""

    claim: Claim
    query: MemberQuery  # where member profiles are (label and key)
    diff: Diff
    definition_version: int


async def write_and_switch(
    graph: Graph, switches: Sequence[Switch], *, with_diffs: bool
) -> dict[str, RunStatus]:
    """In one transaction: take every segment's write lock and check its claim (the fence),
    write the diffs of those still held (unless written already: `with_diffs` False), and
    switch them all to their claimed versions. Returns, by segment id, SUCCESSFUL, CANCELLED
    (a cancel request came meanwhile: nothing of it changed) or FAILED (claim lost)."""
    ordered = sorted(switches, key=lambda s: s.claim.segment_id)

    async def work(tx: Tx) -> dict[str, RunStatus]:
        fates = await _fence(tx, ordered)
        held = [s for s in ordered if fates[s.claim.segment_id] is RunStatus.SUCCESSFUL]
        if with_diffs:
            await _write_diffs(tx, held)
        if held:
            await rows(tx, _SWITCH, rows=[_switch_row(s) for s in held])
        return fates

    return await graph.write(work)


async def _fence(tx: Tx, switches: Sequence[Switch]) -> dict[str, RunStatus]:
    found = await rows(
        tx,
        "UNWIND $rows AS row MATCH (s:_Segment {id: row.id}) SET s.refreshTouchedAt = datetime() "
        "RETURN row.id AS id, s.pendingRun = row.run AS ours, s.status AS status, "
        "  coalesce(s.activeVersion, 0) AS active",
        rows=_claim_rows([s.claim for s in switches]),
    )
    seen = {r["id"]: r for r in found}
    fates: dict[str, RunStatus] = {}
    for s in switches:
        r = seen.get(s.claim.segment_id)
        if r is None or not r["ours"] or r["active"] != s.claim.base:
            fates[s.claim.segment_id] = RunStatus.FAILED
        elif r["status"] != RunStatus.REFRESHING:
            fates[s.claim.segment_id] = RunStatus.CANCELLED
        else:
            fates[s.claim.segment_id] = RunStatus.SUCCESSFUL
    return fates


_ENTERED: LiteralString = (
    "UNWIND $rows AS row MATCH (s:_Segment {id: row.id}) "
    "UNWIND row.keys AS k MATCH (p:{label} {{key}: k}) "
    "CREATE (s)-[:_MEMBER {segmentId: row.id, key: k, since: row.version}]->(p)"
)
_EXITED: LiteralString = (
    "UNWIND $rows AS row UNWIND row.keys AS k "
    "MATCH ()-[m:_MEMBER {segmentId: row.id, key: k}]->() "
    "WHERE m.since <= row.base AND m.until IS NULL SET m.until = row.version"
)


async def _write_diffs(tx: Tx, switches: Sequence[Switch]) -> None:
    """The entered memberships, one statement per profile label; the exited ones, one."""
    entering: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    exiting = []
    for s in switches:
        c = s.claim
        if s.diff.entered:
            place = (s.query.profile_label, s.query.profile_key)
            entering[place].append({"id": c.segment_id, "version": c.version,
                                    "keys": list(s.diff.entered)})  # fmt: skip
        if s.diff.exited:
            exiting.append({"id": c.segment_id, "base": c.base, "version": c.version,
                            "keys": list(s.diff.exited)})  # fmt: skip
    for (label, key), payload in sorted(entering.items()):
        await rows(tx, with_identifiers(_ENTERED, label=label, key=key), rows=payload)
    if exiting:
        await rows(tx, _EXITED, rows=exiting)


_SWITCH: LiteralString = (
    "UNWIND $rows AS row "
    "MATCH (s:_Segment {id: row.id})-[:_HAS_RUN]->(r:_SegmentRun {id: row.run}) "
    "WITH s, r, row, datetime() AS now "
    "SET s.activeVersion = row.version, s.activeDefinitionVersion = row.definition, "
    "    s.pendingRun = null, s.pendingVersion = null, s.leaseUntil = null, "
    "    s.status = 'SUCCESSFUL', s.statusDetail = null, s.lastRefreshedAt = now, "
    "    s.memberCount = row.members, "
    "    r.status = 'SUCCESSFUL', r.finishedAt = now, "
    "    r.durationMs = now.epochMillis - r.startedAt.epochMillis, "
    "    r.memberCount = row.members, r.enteredCount = row.entered, r.exitedCount = row.exited"
)


def _switch_row(s: Switch) -> dict[str, Any]:
    return {"id": s.claim.segment_id, "run": s.claim.run_id, "version": s.claim.version,
            "definition": s.definition_version, "members": s.diff.member_count,
            "entered": len(s.diff.entered), "exited": len(s.diff.exited)}  # fmt: skip


def _claim_rows(claims: Sequence[Claim]) -> list[dict[str, Any]]:
    return [{"id": c.segment_id, "run": c.run_id}
            for c in sorted(claims, key=lambda c: c.segment_id)]  # fmt: skip


async def collect_garbage(
    graph: Graph, segment_ids: Sequence[str], *, keep_versions: int, keep_runs: int,
    batch_size: int, grace_s: float = 0.0,
) -> int:  # fmt: skip
    """What `refresh_segment` collects after a switch, for many segments in one transaction:
    memberships invisible to every kept version (the `keep_versions`-th newest successful run's
    and older) and to every version replaced less than `grace_s` ago (see
    `runs.oldest_kept_version`), and runs beyond the newest `keep_runs`. Returns the
    memberships deleted; a segment with more than `batch_size` of them to go is collected
    again."""
    total, ids = 0, sorted(segment_ids)
    while ids:

        async def work(tx: Tx, ids: list[str] = ids) -> tuple[int, list[str]]:
            found = await rows(tx, _GARBAGE, ids=ids, skip=keep_versions - 1, limit=batch_size,
                               grace=round(grace_s * 1000))  # fmt: skip
            await rows(tx, _PRUNE_RUNS, ids=ids, keep=keep_runs)
            again = [r["id"] for r in found if int(r["n"]) >= batch_size]
            return sum(int(r["n"]) for r in found), again

        done, ids = await graph.write(work)
        total += done
    return total


_GARBAGE: LiteralString = (
    "UNWIND $ids AS id CALL (id) { " + OLDEST_KEPT + " } "
    "CALL (id, oldest) { "
    "  MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = id AND m.until <= oldest "
    "  WITH m LIMIT $limit DELETE m RETURN count(*) AS n } "
    "RETURN id, n"
)
_PRUNE_RUNS: LiteralString = (
    "UNWIND $ids AS id CALL (id) { "
    "  MATCH (r:_SegmentRun {segmentId: id}) WITH r ORDER BY r.startedAt DESC SKIP $keep "
    "  DETACH DELETE r RETURN count(*) AS n } "
    "RETURN sum(n) AS n"
)
