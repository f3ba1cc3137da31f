"""Which features an expansion reads, and the one-hot columns of string attributes."""

from __future__ import annotations

import numpy as np

from graph_schema import default_schema
from server.expansion.features import MAX_DISTINCT, choose, expansion_features, one_hot


def test_names_pick_planned_features_and_string_attributes() -> None:
    features = expansion_features(default_schema(), "Customer")
    strings = {a.name for a in features.strings}
    assert {"city", "loyaltyTier", "gender"} <= strings
    assert not strings & {"customerId", "email", "phone", "segmentHint"}  # key, PII, answer
    names = [f.name for f in features.plan.features]
    assert "Customer.segmentHint" not in names
    everything = choose(features, [])
    assert everything.columns == list(range(len(names)))
    assert everything.unknown == []
    picked = choose(features, ["creditBalance", "Order.total", "Customer.city", "nope", "tier"])
    assert [names[i] for i in picked.columns] == [
        "Customer.creditBalance", "Order.total.sum_365d", "Order.total.avg"]  # fmt: skip
    assert [a.name for a in picked.strings] == ["city"]
    assert picked.unknown == [3, 4]


def test_one_hot_keeps_the_most_frequent_values() -> None:
    attrs = expansion_features(default_schema(), "Customer").strings[:2]
    rows: list[list[object]] = [["b", "x"], ["a", None], ["b", "y"], [None, "x"], ["c", "z"]]
    names, matrix = one_hot("Customer", attrs, rows)
    first, second = attrs[0].name, attrs[1].name
    # ties in frequency go by value: a before c
    assert names == [f"Customer.{first}={v}" for v in "bac"] + [
        f"Customer.{second}={v}" for v in "xyz"]  # fmt: skip
    assert matrix[:, 0].tolist() == [1, 0, 1, 0, 0]
    assert matrix[:, 3].tolist() == [1, 0, 0, 1, 0]
    many = [[str(i), None] for i in range(MAX_DISTINCT + 1)]
    assert one_hot("Customer", attrs, many)[0] == []  # an id-like attribute is left out
    assert one_hot("Customer", (), [[], []])[1].shape == (2, 0)
    assert np.isfinite(matrix).all()
