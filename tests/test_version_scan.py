"""The version scan's own decisions (server/store/version_scan.py): a scan read while rows are
freed and reused can hold a member twice and miss another, or read a row through to another
key; the check must catch each, never refuse a right scan, and the re-read loop must give up
with a typed error."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, LiteralString

import pytest
from neo4j import Record

from server.store.version_scan import (
    Checked,
    ScanChain,
    ScanInconsistent,
    ScanProblem,
    check_keys,
    checked_read,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def reason(keys: list[object], **kw: object) -> str | None:
    problem = check_keys(keys, **kw)  # type: ignore[arg-type]
    return None if problem is None else problem.reason


def test_a_scan_in_strict_key_order_passes() -> None:
    assert reason(["a", "b", "c"]) is None
    assert reason([1, 2, 10], count=3) is None
    assert reason([], count=0) is None
    assert reason(["b", "c"], after="a") is None


def test_a_member_read_twice_or_out_of_order_fails() -> None:
    assert reason(["a", "b", "b", "c"]) == "duplicate"
    assert reason(["a", "c", "b"]) == "out_of_order"  # another member's row at this place
    assert reason([2, 10, 9]) == "out_of_order"
    assert reason([1, 10, 2]) == "out_of_order"  # numbers compare as numbers, not text


def test_a_page_must_follow_the_previous_one() -> None:
    assert reason(["a", "b"], after="a") == "not_after_cursor"
    assert reason(["a", "b"], after="b") == "not_after_cursor"
    assert reason([], after="z") is None


def test_a_whole_version_must_hold_its_count() -> None:
    assert reason(["a", "b"], count=3) == "count"  # one missed
    assert reason(["a", "b", "c", "d"], count=3) == "count"
    assert reason(["a", "b", "c"], count=None) is None  # no count kept: order only


def test_keys_of_different_types_are_not_judged_against_each_other() -> None:
    # Neo4j orders values by type first; Python cannot compare "a" with 1.
    assert reason(["a", "b", 1, 2]) is None
    assert reason([1, 2, "a", "b"]) is None
    assert reason(["a", "b", 1, 0]) == "out_of_order"


def test_unordered_ids_must_only_be_distinct() -> None:
    assert reason([5, 1, 3], ordered=False, count=3) is None
    assert reason([5, 1, 5], ordered=False) == "duplicate"
    assert reason([5, 1], ordered=False, count=3) == "count"


def reads_of(*results: list[int]) -> tuple[Callable[[], Awaitable[list[int]]], list[int]]:
    """A read returning `results` in turn, and the count of reads made."""
    made: list[int] = []

    async def read() -> list[int]:
        made.append(1)
        return results[min(len(made), len(results)) - 1]

    return read, made


class Recount:
    """The answer of the chain's recount query, as the database would give it (`None`: the
    test expects no query)."""

    def __init__(self, n: int | None) -> None:
        self.n = n

    async def read(self, query: LiteralString, **params: Any) -> list[Record]:
        assert self.n is not None, "no recount expected"
        return [Record({"n": self.n})]  # type: ignore[no-untyped-call]


async def in_order(keys: list[int]) -> Checked:
    return 7, check_keys(keys, count=3)


async def test_a_wrong_read_is_read_again_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    read, made = reads_of([1, 1, 3], [1, 2, 3])
    with caplog.at_level(logging.WARNING, "segments.version_scan"):
        assert await checked_read("test scan", "seg", read, in_order) == [1, 2, 3]
    assert len(made) == 2
    [warning] = caplog.records
    assert (warning.segmentId, warning.version, warning.attempt, warning.reason) == (  # type: ignore[attr-defined]
        "seg", 7, 1, "duplicate",
    )  # fmt: skip


async def test_a_scan_that_stays_wrong_raises_a_typed_error() -> None:
    read, made = reads_of([1, 3], [2, 3], [1, 3], [1, 2])
    with pytest.raises(ScanInconsistent) as raised:
        await checked_read("test scan", "seg", read, in_order, reads=4)
    assert len(made) == 4
    assert (raised.value.segment_id, raised.value.version, raised.value.attempts) == ("seg", 7, 4)
    assert raised.value.problem == ScanProblem("count", "2 keys, the version holds 3")


async def test_a_count_two_identical_reads_disagree_with_is_the_stale_one() -> None:
    # Members whose profiles were deleted leave the kept count behind: the same read twice.
    read, made = reads_of([1, 3])
    assert await checked_read("test scan", "seg", read, in_order) == [1, 3]
    assert len(made) == 2
    # A key read twice is never a stale count, however often it repeats.
    read, made = reads_of([1, 1, 3])
    with pytest.raises(ScanInconsistent):
        await checked_read("test scan", "seg", read, in_order, reads=3)
    assert len(made) == 3


async def test_a_chain_of_pages_checks_each_against_the_last_and_the_total() -> None:
    chain = ScanChain("export", "seg", 3, count=5)
    for page in ([1, 2], [3, 4], [5]):
        assert await chain.check(page) == (3, None)
        chain.accept(page)
    await chain.finish(Recount(None))  # the total agrees: no recount is made
    assert (await chain.check([5, 6]))[1] == ScanProblem("not_after_cursor", "first key 5 after 5")


async def test_a_chain_that_misses_a_member_fails_at_its_end() -> None:
    chain = ScanChain("export", "seg", 3, count=5)
    for page in ([1, 2], [4, 5]):
        assert (await chain.check(page))[1] is None
        chain.accept(page)
    with pytest.raises(ScanInconsistent, match="4 keys in 2 pages, the version holds 5"):
        await chain.finish(Recount(5))  # the version still holds 5: one was missed
    await chain.finish(Recount(4))  # it holds 4 now: the kept count was stale, the pages right
    await ScanChain("export", "seg", 3, count=None).finish(Recount(None))  # nothing to hold to
