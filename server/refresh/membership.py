"""The membership writer: versioned `_MEMBER` relationships (see graph_schema.engine_labels).

Version V's members are the relationships with `since <= V` and (`until` null or `> V`). A run
holding a claim for version N on top of active version B writes only the difference:
`since = N` for profiles that entered, `until = N` for those that left. Neither is visible to
readers of B; the claim's switch makes all of it visible at once. Every batch is fenced by the
claim (see claims.py), so a run that lost its claim cannot add to a newer version.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from typing import Any, LiteralString

from server.refresh.claims import ClaimLost, holds_claim
from server.refresh.graph import Graph, Tx, compiled, rows, with_identifiers
from server.refresh.records import Claim, Diff, MemberQuery
from server.refresh.spans import member_at
from server.store.version_scan import version_keys

BATCH_SIZE = 10_000
Progress = Callable[[int, int], Awaitable[None]]  # (done, total)


async def clean_leftovers(graph: Graph, claim: Claim, batch_size: int = BATCH_SIZE) -> int:
    """Undo what aborted runs wrote beyond the active version; returns relationships touched.

    Raises ClaimLost when the claim is taken over meanwhile.
    """
    total = 0
    for query in (_DELETE_ENTERED, _RESTORE_EXITED):
        while (done := await _fenced_count(graph, claim, query, batch_size)) > 0:
            total += done
    return total


_DELETE_ENTERED: LiteralString = (
    "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.since > $base "
    "WITH m LIMIT $limit DELETE m RETURN count(*) AS n"
)
_RESTORE_EXITED: LiteralString = (
    "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.until > $base "
    "WITH m LIMIT $limit SET m.until = null RETURN count(*) AS n"
)


async def _fenced_count(graph: Graph, claim: Claim, query: LiteralString, limit: int) -> int:
    async def work(tx: Tx) -> int | None:
        if not await holds_claim(tx, claim):
            return None
        found = await rows(tx, query, id=claim.segment_id, base=claim.base, limit=limit)
        return int(found[0]["n"])

    done = await graph.write(work)
    if done is None:
        raise ClaimLost(claim.run_id)
    return done


async def read_members(graph: Graph, segment_id: str, version: int) -> set[Any]:
    """The keys of version `version` of a segment's membership (none for an unknown segment),
    read as one collected list (the driver decodes one big list many times faster than as
    many records) by the checked version scan. Raises ScanInconsistent (transient: the run is
    retried rather than diffed against a wrong read)."""
    found = await version_keys(graph, segment_id, version, what="refresh base version")
    return set() if found is None else set(found.keys)


async def evaluate(graph: Graph, query: MemberQuery) -> set[Any]:
    """Run a compiled definition (read-only) and return its member keys.

    Raises neo4j errors (a bad query is a ClientError; the run records it as FAILED).
    """
    wrapped = "CALL () { " + compiled(query.cypher) + " } RETURN collect(key) AS keys"
    records = await graph.read_with(wrapped, query.params)
    return set(records[0]["keys"])


async def read_members_among(
    graph: Graph, segment_id: str, version: int, keys: list[Any]
) -> set[Any]:
    """Which of `keys` are members of version `version` (one index seek per key)."""
    records = await graph.read(
        "UNWIND $keys AS k MATCH ()-[m:_MEMBER {segmentId: $id, key: k}]->() "
        "WHERE " + member_at("$version") + " "
        "RETURN collect(m.key) AS keys",
        id=segment_id,
        version=version,
        keys=keys,
    )
    return set(records[0]["keys"])


async def evaluate_among(graph: Graph, query: MemberQuery, keys: list[Any]) -> set[Any]:
    """Which of `keys` the definition selects now (its `keys_cypher` form).

    Raises ValueError when the compiled definition has no such form.
    """
    if query.keys_cypher is None:
        raise ValueError("this definition has no form restricted to given keys")
    wrapped = "CALL () { " + compiled(query.keys_cypher) + " } RETURN collect(key) AS keys"
    records = await graph.read_with(wrapped, query.params | {"keys": keys})
    return set(records[0]["keys"])


def diff_members(active: set[Any], fresh: set[Any]) -> Diff:
    """Who entered and who left; sorted so batches and recorded lists are deterministic."""
    return Diff(
        entered=tuple(sorted(fresh - active, key=_order)),
        exited=tuple(sorted(active - fresh, key=_order)),
        member_count=len(fresh),
    )


def _order(key: Any) -> tuple[str, Any]:
    return (type(key).__name__, key)


def _entered_query(query: MemberQuery) -> LiteralString:
    return with_identifiers(
        "MATCH (s:_Segment {id: $id}) UNWIND $keys AS k MATCH (p:{label} {{key}: k}) "
        "CREATE (s)-[:_MEMBER {segmentId: $id, key: k, since: $version}]->(p) "
        "RETURN count(*) AS n",
        label=query.profile_label,
        key=query.profile_key,
    )


_EXITED: LiteralString = (
    "UNWIND $keys AS k MATCH ()-[m:_MEMBER {segmentId: $id, key: k}]->() "
    "WHERE m.since <= $base AND m.until IS NULL SET m.until = $version RETURN count(*) AS n"
)


async def write_diff(
    graph: Graph,
    claim: Claim,
    query: MemberQuery,
    diff: Diff,
    progress: Progress,
    batch_size: int = BATCH_SIZE,
    in_flight: int = 1,
) -> None:
    """Write the diff as the claimed version, in batches, up to `in_flight` transactions at
    once (each fenced by the claim; all are invisible until the switch, so their order does
    not matter). Raises ClaimLost, and the others are cancelled then."""
    total = len(diff.entered) + len(diff.exited)
    done = 0
    gate = asyncio.Semaphore(max(1, in_flight))

    async def one(statement: LiteralString, batch: Sequence[Any]) -> None:
        nonlocal done
        async with gate:
            await _write_batch(graph, claim, statement, batch)
        done += len(batch)
        await progress(done, total)

    for statement, keys in ((_entered_query(query), diff.entered), (_EXITED, diff.exited)):
        await _all_or_first_failure([one(statement, batch) for batch in _batches(keys, batch_size)])


async def _all_or_first_failure(work: list[Coroutine[Any, Any, None]]) -> None:
    """Run `work` concurrently; on the first failure cancel the rest and raise it, as a
    sequential write would. Not a TaskGroup: on Python 3.11 before 3.11.3 (Debian 12's) a
    failed child left the group's parent task marked as being cancelled, and a later await
    in it (an anyio or redis timeout) was cancelled for no reason."""
    tasks = [asyncio.ensure_future(w) for w in work]
    if not tasks:
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = next((t.exception() for t in tasks
                       if t in done and not t.cancelled() and t.exception()), None)  # fmt: skip
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if failed is not None:
        raise failed


async def _write_batch(
    graph: Graph, claim: Claim, statement: LiteralString, keys: Sequence[Any]
) -> None:
    async def work(tx: Tx) -> bool:
        if not await holds_claim(tx, claim):
            return False
        await rows(
            tx, statement, id=claim.segment_id, base=claim.base, version=claim.version,
            keys=list(keys),
        )  # fmt: skip
        return True

    if not await graph.write(work):
        raise ClaimLost(claim.run_id)


def _batches(keys: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    return (keys[i : i + size] for i in range(0, len(keys), size))


async def collect_garbage(
    graph: Graph, segment_id: str, oldest_kept: int, batch_size: int = BATCH_SIZE
) -> int:
    """Delete memberships that ended at or before `oldest_kept` (invisible to every version
    still kept); returns how many. Safe beside a running refresh, which never touches them."""
    total = 0
    while True:

        async def work(tx: Tx) -> int:
            found = await rows(
                tx,
                "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.until <= $oldest "
                "WITH m LIMIT $limit DELETE m RETURN count(*) AS n",
                id=segment_id,
                oldest=oldest_kept,
                limit=batch_size,
            )
            return int(found[0]["n"])

        done = await graph.write(work)
        total += done
        if done < batch_size:
            return total


async def rewrite_all(
    graph: Graph, claim: Claim, query: MemberQuery, keys: Sequence[Any],
    batch_size: int = BATCH_SIZE,
) -> None:  # fmt: skip
    """The naive alternative kept for the benchmark: end every active membership and create
    all members anew as the claimed version. Raises ClaimLost."""
    active = sorted(await read_members(graph, claim.segment_id, claim.base), key=_order)
    for batch in _batches(active, batch_size):
        await _write_batch(graph, claim, _EXITED, batch)
    for batch in _batches(keys, batch_size):
        await _write_batch(graph, claim, _entered_query(query), batch)
