"""Segment overlap over HTTP: counts equal set arithmetic over memberships read independently."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import neo4j
import numpy as np
import pytest

from server.refresh.records import RunStatus
from server.settings import Settings
from server.store.overlap import combination_counts
from tests.api.conftest import Api, codes, create_ok
from tests.api.test_expansion import refresh, seed
from tests.api.test_splits import members

OVERLAP = """
query($ids: [ID!]!, $by: String) {
  segmentOverlap(segments: $ids, breakdown: $by) {
    combinations { segments { name } count breakdown { value count } }
    userErrors { code field }
  }
}
"""
DEFINITIONS = {
    "happy": "segment Customer where satisfaction > 60",
    "unhappy": "segment Customer where satisfaction < 30",
    "rich": "segment Customer where creditBalance > 3000",
    "planted": 'segment Customer where segmentHint in ("src", "twin")',
}


@pytest.fixture
def segments(api: Api, empty_graph: neo4j.Driver, settings: Settings) -> dict[str, str]:
    roles = seed(empty_graph)
    ids = {n: create_ok(api, name=n, definition={"text": t})["id"] for n, t in DEFINITIONS.items()}
    assert all(o.status is RunStatus.SUCCESSFUL for o in refresh(settings, *DEFINITIONS))
    assert roles
    return ids


def test_counts_equal_set_arithmetic(
    api: Api, segments: dict[str, str], empty_graph: neo4j.Driver
) -> None:
    names = ["happy", "unhappy", "rich", "planted"]
    sets = {n: members(empty_graph, n) for n in names}
    profiles = set().union(*sets.values())
    expected = Counter(tuple(n for n in names if k in sets[n]) for k in profiles)
    shown = api.data(OVERLAP, ids=[segments[n] for n in names])["segmentOverlap"]
    got = {tuple(s["name"] for s in c["segments"]): c["count"] for c in shown["combinations"]}
    assert got == dict(expected)
    assert ("happy", "unhappy") not in got  # disjoint definitions share nobody
    assert all(c["breakdown"] == [] for c in shown["combinations"])
    counts = [c["count"] for c in shown["combinations"]]
    assert counts == sorted(counts, reverse=True)
    for a, b in combinations(names, 2):  # pairwise intersections follow from the combinations
        both = sum(n for combo, n in got.items() if a in combo and b in combo)
        assert both == len(sets[a] & sets[b])


def test_breakdown_by_an_attribute(
    api: Api, segments: dict[str, str], empty_graph: neo4j.Driver
) -> None:
    hints, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer) RETURN c.customerId AS k, c.segmentHint AS h"
    )
    hint = {r["k"]: r["h"] for r in hints}
    sets = {n: members(empty_graph, n) for n in ("rich", "planted")}
    shown = api.data(OVERLAP, ids=[segments["rich"], segments["planted"]], by="segmentHint")
    for c in shown["segmentOverlap"]["combinations"]:
        combo = [s["name"] for s in c["segments"]]
        keys = set.intersection(*(sets[n] for n in combo)) - set().union(
            *(sets[n] for n in sets if n not in combo))  # fmt: skip
        assert {v["value"]: v["count"] for v in c["breakdown"]} == dict(
            Counter(hint[k] for k in keys))  # fmt: skip
        assert sum(v["count"] for v in c["breakdown"]) == c["count"]


def test_refusals(api: Api, segments: dict[str, str]) -> None:
    contacts = create_ok(api, name="contacts", audience="Contact",
                         definition={"text": "segment Contact where firstName = 'A'"})  # fmt: skip
    happy, rich = segments["happy"], segments["rich"]
    cases = [
        ([happy], None, [("LIMIT_EXCEEDED", ["segments"])]),
        ([happy, happy], None, [("LIMIT_EXCEEDED", ["segments"])]),
        ([happy, "U2VnbWVudDpub3Bl"], None, [("NOT_FOUND", ["segments", "1"])]),
        ([happy, contacts["id"]], None, [("AUDIENCE_MISMATCH", ["segments"])]),
        ([happy, rich], "shoeSize", [("INVALID_VALUE", ["breakdown"])]),
    ]
    for ids, by, expected in cases:
        assert codes(api.data(OVERLAP, ids=ids, by=by)["segmentOverlap"]) == expected


def test_counts_follow_the_active_version_after_members_came_and_went(
    api: Api, segments: dict[str, str], empty_graph: neo4j.Driver, settings: Settings
) -> None:
    before = members(empty_graph, "happy")
    # some happy customers turn unhappy, some unhappy ones happy: the next version has
    # memberships ended (until) and begun (since) beside the ones kept
    empty_graph.execute_query(
        "MATCH (c:Customer) WHERE c.satisfaction > 60 WITH c ORDER BY c.customerId LIMIT 40 "
        "SET c.satisfaction = 10"
    )
    empty_graph.execute_query(
        "MATCH (c:Customer) WHERE c.satisfaction < 30 WITH c ORDER BY c.customerId DESC "
        "LIMIT 25 SET c.satisfaction = 90"
    )
    assert [o.status for o in refresh(settings, "happy", "unhappy")] == [RunStatus.SUCCESSFUL] * 2
    names = ["happy", "unhappy", "rich"]
    sets = {n: members(empty_graph, n) for n in names}
    assert sets["happy"] != before
    profiles = set().union(*sets.values())
    expected = Counter(tuple(n for n in names if k in sets[n]) for k in profiles)
    shown = api.data(OVERLAP, ids=[segments[n] for n in names])["segmentOverlap"]
    got = {tuple(s["name"] for s in c["segments"]): c["count"] for c in shown["combinations"]}
    assert got == dict(expected)


def test_combination_counts_equal_set_arithmetic() -> None:
    rng = np.random.default_rng(3)
    lists = [np.flatnonzero(rng.random(5000) < share).tolist() for share in (0.1, 0.5, 0.7, 0.02)]
    sets = [set(m) for m in lists]
    expected = Counter(tuple(i for i, s in enumerate(sets) if k in s) for k in set().union(*sets))
    assert combination_counts([list(reversed(m)) for m in lists]) == dict(expected)
    assert combination_counts([[], [7, 3]]) == {(1,): 2}
    sparse = [[10**12, 3, 5], [3, 10**12 + 1]]  # counted through a sort, not an id-indexed array
    assert combination_counts(sparse) == {(0,): 2, (0, 1): 1, (1,): 1}
    assert combination_counts([]) == {}
