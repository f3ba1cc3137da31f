"""Differentiators over HTTP: the planted traits come first, with the effect sizes computed
independently from the profiles' stored values."""

from __future__ import annotations

import math

import neo4j
import numpy as np
import pytest

from server.settings import Settings
from tests.api.conftest import Api, codes, create_ok
from tests.api.test_expansion import refresh, seed
from tests.api.test_splits import members

QUERY = """
query($id: ID!, $versus: ID, $first: Int!) {
  segmentDifferentiators(segment: $id, versus: $versus, first: $first) {
    segmentSize othersSize sampled
    differentiators { feature label value score difference segmentValue othersValue }
    userErrors { code field }
  }
}
"""


def smd(a: np.ndarray, b: np.ndarray) -> float:
    return float((a.mean() - b.mean()) / math.sqrt((a.var() + b.var()) / 2))


@pytest.fixture
def ids(api: Api, empty_graph: neo4j.Driver, settings: Settings) -> dict[str, str]:
    seed(empty_graph)
    texts = {"planted": 'segment Customer where segmentHint in ("src", "twin")',
             "src": 'segment Customer where segmentHint = "src"',
             "twin": 'segment Customer where segmentHint = "twin"'}  # fmt: skip
    found = {n: create_ok(api, name=n, definition={"text": t})["id"] for n, t in texts.items()}
    refresh(settings, *texts)
    return found


def test_planted_traits_lead_with_independently_computed_sizes(
    api: Api, ids: dict[str, str], empty_graph: neo4j.Driver
) -> None:
    shown = api.data(QUERY, id=ids["planted"], first=5)["segmentDifferentiators"]
    assert (shown["segmentSize"], shown["othersSize"], shown["sampled"]) == (300, 3000, False)
    top = shown["differentiators"]
    expected = ["Customer.satisfaction", "Customer.creditBalance"]
    assert [d["feature"] for d in top[:2]] == expected, top
    rows, _, _ = empty_graph.execute_query(
        "MATCH (c:Customer) RETURN c.customerId AS k, c.satisfaction AS s, c.creditBalance AS b"
    )
    inside = members(empty_graph, "planted")
    for feature, column in (("Customer.satisfaction", "s"), ("Customer.creditBalance", "b")):
        a = np.array([r[column] for r in rows if r["k"] in inside], dtype=float)
        everyone = np.array([r[column] for r in rows], dtype=float)
        d = next(x for x in top if x["feature"] == feature)
        assert d["difference"] == pytest.approx(smd(a, everyone), abs=1e-4)
        assert d["segmentValue"] == pytest.approx(a.mean())
        assert d["othersValue"] == pytest.approx(everyone.mean())
        assert d["score"] == pytest.approx(abs(d["difference"]), abs=1e-4)
    scores = [d["score"] for d in top]
    assert scores == sorted(scores, reverse=True)


def test_two_halves_of_one_group_barely_differ_and_refusals(api: Api, ids: dict[str, str]) -> None:
    shown = api.data(QUERY, id=ids["src"], versus=ids["twin"], first=3)["segmentDifferentiators"]
    assert (shown["segmentSize"], shown["othersSize"]) == (150, 150)
    assert shown["differentiators"][0]["score"] < 0.4
    contacts = create_ok(api, name="contacts", audience="Contact",
                         definition={"text": "segment Contact where firstName = 'A'"})  # fmt: skip
    bad = "U2VnbWVudDpub3Bl"
    cases = [
        ({"id": bad}, [("NOT_FOUND", ["segment"])]),
        ({"id": ids["src"], "versus": bad}, [("NOT_FOUND", ["versus"])]),
        ({"id": ids["src"], "versus": contacts["id"]}, [("AUDIENCE_MISMATCH", ["versus"])]),
        ({"id": ids["src"], "first": 0}, [("LIMIT_EXCEEDED", ["first"])]),
    ]
    for args, expected in cases:
        body = api.data(QUERY, **({"first": 5} | args))["segmentDifferentiators"]
        assert codes(body) == expected, args
