"""The one checked reader of a membership version scanned through the (segmentId, key) index.

Reads are read-committed, not snapshots. A long scan of a version racing the refresh engine's
writes and garbage collection was seen to return one member twice and miss another
(tests/reliability/test_refresh_atomicity.py, long mode: 2 of 22,580 whole-version reads).
Every reader that scans a version therefore checks what it read -- keys strictly increasing
within a page and across pages, and as many keys as the version's count where the count is
known -- reads again when the check fails (a structured warning each time), and raises
`ScanInconsistent` after `SCAN_READS` failed reads, so that a refresh fails and is retried
rather than writing a diff computed from a wrong read.

`check_keys` is the pure decision; `checked_read` the re-read loop; `version_keys` the whole
version as one sorted list of keys (a split's parent, an expansion's source, a refresh's base);
`ScanChain` the pages of one version read one after another (exports).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, LiteralString, Protocol, TypeVar

from neo4j import Record

from server.refresh.spans import member_at

log = logging.getLogger("segments.version_scan")
T = TypeVar("T")

SCAN_READS = 5  # reads of one scan before giving up (one re-read was always enough when seen)


class Reader(Protocol):
    """`server.store.Db` and `server.refresh.graph.Graph` both read like this."""

    async def read(self, query: LiteralString, **params: Any) -> list[Record]: ...


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Why a scan cannot be one version's: `reason` is a stable code, `detail` for people."""

    reason: str  # "out_of_order", "duplicate", "not_after_cursor", "count"
    detail: str


Checked = tuple[int | None, ScanProblem | None]  # (the version read, what is wrong or None)


class ScanInconsistent(Exception):
    """A version scan read wrong `attempts` times in a row (a transient condition: retry)."""

    def __init__(self, what: str, segment_id: str, version: int | None, problem: ScanProblem,
                 attempts: int) -> None:  # fmt: skip
        super().__init__(
            f"{what} of segment {segment_id} version {version} read wrong {attempts} times: "
            f"{problem.reason} ({problem.detail})"
        )
        self.what, self.segment_id, self.version = what, segment_id, version
        self.problem, self.attempts = problem, attempts


def _before(a: Any, b: Any) -> bool | None:
    """a < b for keys of one type; None for keys of different types, which Neo4j orders by
    type in a way Python cannot compare (such a pair is not judged)."""
    if type(a) is not type(b):
        return None
    return bool(a < b)


def check_keys(keys: Sequence[Any], *, after: Any = None, count: int | None = None,
               ordered: bool = True) -> ScanProblem | None:  # fmt: skip
    """None when `keys` can be one version's scan, else what is wrong.

    `ordered`: the keys come in index order, so each must be strictly greater than the one
    before (a key read twice or a row read through to another key breaks it); otherwise
    (node ids, in no order) they must only be distinct. `after`: the previous page's last
    key, which every key must follow. `count`: the version's size, when the scan is whole."""
    if ordered:
        for i, (a, b) in enumerate(pairwise(keys)):
            if _before(a, b) is False:
                kind = "duplicate" if a == b else "out_of_order"
                return ScanProblem(kind, f"key {b!r} at {i + 1} after {a!r}")
        if keys and after is not None and _before(after, keys[0]) is False:
            return ScanProblem("not_after_cursor", f"first key {keys[0]!r} after {after!r}")
    elif len(set(keys)) != len(keys):
        return ScanProblem("duplicate", f"{len(keys) - len(set(keys))} ids read twice")
    if count is not None and len(keys) != count:
        return ScanProblem("count", f"{len(keys)} keys, the version holds {count}")
    return None


async def checked_read(
    what: str, segment_id: str, read: Callable[[], Awaitable[T]],
    check: Callable[[T], Awaitable[Checked]], *, reads: int = SCAN_READS,
) -> T:  # fmt: skip
    """`read()` until `check` (of its result: the version read and a problem or None) passes.

    Raises ScanInconsistent after `reads` failed reads, and whatever `read` raises.

    A count that disagrees with two identical reads in a row is the count that is wrong, not
    the reads: memberships also go when their profile is deleted (live deletes, or anyone's
    `DETACH DELETE` in Neo4j), which no kept count follows. The mixed reads this guards
    against are races, and did not repeat themselves."""
    previous: list[T] = []
    for attempt in range(1, reads + 1):
        result = await read()
        version, problem = await check(result)
        if problem is None:
            return result
        if problem.reason == "count" and previous and previous[0] == result:
            log.info(
                "kept count stale: %s of segment %s, version %s: %s, the same twice",
                what, segment_id, version, problem.detail,
                extra={"scan": what, "segmentId": segment_id, "version": version,
                       "reason": "stale_count", "detail": problem.detail},
            )  # fmt: skip
            return result
        previous = [result]
        # The fields as `extra` for a structured handler, and in the text for a plain one.
        log.warning(
            "version scan read again: %s of segment %s, version %s, attempt %d: %s (%s)",
            what, segment_id, version, attempt, problem.reason, problem.detail,
            extra={"scan": what, "segmentId": segment_id, "version": version,
                   "attempt": attempt, "reason": problem.reason, "detail": problem.detail},
        )  # fmt: skip
    assert problem is not None  # reads >= 1
    raise ScanInconsistent(what, segment_id, version, problem, reads)


@dataclass(frozen=True, slots=True)
class VersionKeys:
    version: int  # 0 before the first switch
    count: int | None  # the version's member count where one is kept, else None
    keys: list[Any]  # ascending (index order)


# The version is bound once before its memberships are read (a version read per row could
# change under a concurrent switch). Its count is the segment's `memberCount` when the version
# is the active one (kept with every switch) or a successful run's `memberCount` for an older
# one; a version written by a manual edit and since replaced has no kept count (None).
# The hint and `ORDER BY m.segmentId, m.key` make the scan walk the index in key order (the
# planner elides the sort), which is what lets `check_keys` see a key read twice.
_VERSION_KEYS: LiteralString = (
    "MATCH (s:_Segment {id: $id}) WITH coalesce($version, s.activeVersion, 0) AS v, s "
    "CALL (s, v) { OPTIONAL MATCH (r:_SegmentRun {segmentId: $id, version: v}) "
    "  WHERE r.status = 'SUCCESSFUL' "
    "  RETURN CASE WHEN v = coalesce(s.activeVersion, 0) THEN s.memberCount "
    "    ELSE r.memberCount END AS n LIMIT 1 } "
    "CALL (v) { MATCH ()-[m:_MEMBER]->() USING INDEX m:_MEMBER(segmentId, key) "
    "  WHERE m.segmentId = $id AND m.key IS NOT NULL "
    "  AND " + member_at("v") + " "
    "  WITH m ORDER BY m.segmentId, m.key RETURN collect(m.key) AS keys } "
    "RETURN v, n, keys"
)


async def version_keys(
    reader: Reader, segment_id: str, version: int | None = None, *, what: str = "version keys"
) -> VersionKeys | None:
    """Every member key of `version` of the segment (the active version when None), in key
    order, checked; None when the segment does not exist.

    Raises ScanInconsistent (see the module), neo4j errors."""

    async def read() -> VersionKeys | None:
        found = await reader.read(_VERSION_KEYS, id=segment_id, version=version)
        if not found:
            return None
        row = found[0]
        n = row["n"]
        return VersionKeys(int(row["v"]), None if n is None else int(n), list(row["keys"]))

    async def check(got: VersionKeys | None) -> Checked:
        if got is None:
            return None, None
        return got.version, check_keys(got.keys, count=got.count)

    return await checked_read(what, segment_id, read, check)


# The members of version `$v` of segment `$id`, counted.
COUNT_AT: LiteralString = (
    "MATCH ()-[m:_MEMBER]->() WHERE m.segmentId = $id AND m.key IS NOT NULL "
    "AND " + member_at("$v") + " RETURN count(m) AS n"
)


@dataclass(slots=True)
class ScanChain:
    """The pages of one version read one after another (an export): each page is checked on
    its own and after the previous one (`check` then `accept`), and `finish` compares the keys
    accepted with the version's count. Pages already handed on cannot be read again, so a
    wrong total raises ScanInconsistent at once (the export fails instead of a wrong file)."""

    what: str
    segment_id: str
    version: int
    count: int | None  # None where no count is kept for the version
    last: Any = None
    total: int = 0
    _pages: int = field(default=0)

    async def check(self, keys: Sequence[Any]) -> Checked:
        return self.version, check_keys(keys, after=self.last)

    def accept(self, keys: Sequence[Any]) -> None:
        if keys:
            self.last = keys[-1]
        self.total += len(keys)
        self._pages += 1

    async def finish(self, reader: Reader) -> None:
        """Raises ScanInconsistent when the pages do not add up to the version's count, nor
        to a count of its memberships made now (the kept count is stale once members' profiles
        are deleted: see `checked_read`)."""
        if self.count is not None and self.total != self.count:
            found = await reader.read(COUNT_AT, id=self.segment_id, v=self.version)
            if int(found[0]["n"]) == self.total:
                return
            problem = ScanProblem("count", f"{self.total} keys in {self._pages} pages, "
                                           f"the version holds {self.count}")  # fmt: skip
            log.warning("version scan wrong at its end: %s of segment %s, version %s: %s",
                        self.what, self.segment_id, self.version, problem.detail,
                        extra={"scan": self.what, "segmentId": self.segment_id,
                               "version": self.version, "reason": problem.reason,
                               "detail": problem.detail})  # fmt: skip
            raise ScanInconsistent(self.what, self.segment_id, self.version, problem, 1)
