"""Keyset pagination of the segments list: no duplicates or gaps, also while data changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import neo4j
import pytest

from server.settings import Settings
from tests.api.conftest import Api, create_ok, running

LIST = """
query($first: Int, $after: String, $order: SegmentOrderInput, $search: String,
      $tags: [String!], $type: SegmentType, $state: SegmentState) {
  segments(first: $first, after: $after, orderBy: $order, search: $search, tags: $tags,
           type: $type, state: $state) {
    totalCount
    edges { cursor node { name } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def page(api: Api, **args: Any) -> dict[str, Any]:
    found: dict[str, Any] = api.data(LIST, **args)["segments"]
    return found


def walk(api: Api, size: int, between_pages: Any = None, **args: Any) -> Iterator[str]:
    after = None
    while True:
        found = page(api, first=size, after=after, **args)
        yield from (e["node"]["name"] for e in found["edges"])
        if not found["pageInfo"]["hasNextPage"]:
            return
        after = found["pageInfo"]["endCursor"]
        if between_pages:
            between_pages()


def test_pages_cover_every_segment_once(api: Api) -> None:
    names = [f"seg_{i:02d}" for i in range(23)]
    for name in reversed(names):
        create_ok(api, name=name)
    assert list(walk(api, 5)) == names
    desc = {"field": "NAME", "direction": "DESC"}
    assert list(walk(api, 4, order=desc)) == names[::-1]
    newest_first = {"field": "CREATED_AT", "direction": "DESC"}
    assert list(walk(api, 6, order=newest_first)) == names  # created in reverse name order
    first = page(api, first=5)
    assert first["totalCount"] == 23
    assert first["pageInfo"]["hasPreviousPage"] is False


def test_no_duplicates_or_gaps_while_segments_are_added(api: Api) -> None:
    originals = [f"m_{i:02d}" for i in range(0, 40, 2)]
    for name in originals:
        create_ok(api, name=name)
    added = iter(f"m_{i:02d}" for i in range(1, 40, 2))

    def insert() -> None:  # new rows land both before and after the cursor
        create_ok(api, name=next(added))
        create_ok(api, name=next(added))

    seen = list(walk(api, 3, insert))
    assert len(seen) == len(set(seen))
    assert [n for n in seen if n in originals] == originals
    assert seen == sorted(seen)


def test_sort_by_a_column_with_ties_and_nulls(api: Api) -> None:
    for i in range(7):
        create_ok(api, name=f"t{i}", type="STATIC" if i % 2 else "DYNAMIC", definition=None)
    by_type = {"field": "TYPE", "direction": "ASC"}
    names = list(walk(api, 2, order=by_type))
    assert sorted(names) == [f"t{i}" for i in range(7)]
    assert set(names[:4]) == {"t0", "t2", "t4", "t6"}  # DYNAMIC < STATIC; ties in id order
    never = {"field": "LAST_REFRESHED_AT", "direction": "ASC"}
    assert sorted(walk(api, 3, order=never)) == [f"t{i}" for i in range(7)]


def test_sort_by_member_count(api: Api, empty_graph: neo4j.Driver) -> None:
    counts = {"a": 5, "b": 50, "c": None, "d": 7, "e": 50, "f": 0}
    for name in counts:
        create_ok(api, name=name)
    empty_graph.execute_query(
        "UNWIND $counts AS c MATCH (s:_Segment {name: c.name}) SET s.memberCount = c.n",
        counts=[{"name": k, "n": v} for k, v in counts.items()],
    )
    largest = list(walk(api, 2, order={"field": "MEMBER_COUNT", "direction": "DESC"}))
    assert set(largest[:2]) == {"b", "e"}
    assert largest[2:4] == ["d", "a"]
    assert set(largest[4:]) == {"c", "f"}  # never refreshed counts as empty
    smallest = list(walk(api, 4, order={"field": "MEMBER_COUNT", "direction": "ASC"}))
    assert smallest == largest[::-1]


def test_filters(api: Api) -> None:
    create_ok(api, name="oslo_vip", displayName="Oslo VIPs", tags=["vip"])
    create_ok(api, name="bergen", tags=["vip", "west"])
    create_ok(api, name="expo", type="STATIC", definition=None)
    create_ok(api, name="draft", definition={"text": "segment Customer where"})

    def names(**args: Any) -> list[str]:
        return sorted(e["node"]["name"] for e in page(api, **args)["edges"])

    assert names(search="VIP") == ["oslo_vip"]
    assert names(tags=["vip"]) == ["bergen", "oslo_vip"]
    assert names(tags=["vip", "west"]) == ["bergen"]
    assert names(type="STATIC") == ["expo"]
    assert names(state="INACTIVE") == ["draft"]
    assert page(api, search="VIP")["totalCount"] == 1


def test_bad_cursors_are_refused(api: Api) -> None:
    for i in range(3):
        create_ok(api, name=f"s{i}")
    cursor = page(api, first=1)["pageInfo"]["endCursor"]
    other_order = {"field": "CREATED_AT", "direction": "ASC"}
    for args in ({"after": "garbage"}, {"after": cursor, "order": other_order}):
        body = api.gql(LIST, first=1, **args)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    negative = api.gql(LIST, first=-1)
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.fixture
def small_pages(empty_graph: neo4j.Driver, settings: Settings) -> Iterator[Api]:
    with running(settings.model_copy(update={"max_page_size": 2})) as client:
        yield client


def test_page_size_is_capped(small_pages: Api) -> None:
    for i in range(3):
        create_ok(small_pages, name=f"s{i}")
    found = page(small_pages, first=50)
    assert len(found["edges"]) == 2
    assert found["pageInfo"]["hasNextPage"] is True
