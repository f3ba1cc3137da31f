"""The member page's own consistency check (server/store/members.py): a page read while ids are
freed and reused can hold a member twice and miss another; the check must catch it."""

from __future__ import annotations

from server.store.members import _consistent
from server.store.records import Member


def page(*keys: str | int) -> list[Member]:
    return [Member(key=k, since=1, properties={}) for k in keys]


def test_a_page_in_strict_key_order_passes() -> None:
    assert _consistent(page("a", "b", "c"), None)
    assert _consistent(page(1, 2, 10), 3)
    assert _consistent(page(), 0)


def test_a_member_read_twice_or_out_of_order_fails() -> None:
    assert not _consistent(page("a", "b", "b", "c"), None)
    assert not _consistent(page("a", "c", "b"), None)  # another member's row at this place
    assert not _consistent(page(2, 10, 9), None)


def test_a_whole_version_must_hold_its_count() -> None:
    assert not _consistent(page("a", "b"), 3)  # one missed
    assert not _consistent(page("a", "b", "c", "d"), 3)
