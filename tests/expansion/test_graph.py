"""What expansions read from Neo4j, against the real database: the string attributes as
collected columns, checked against one plain read per key."""

from __future__ import annotations

from typing import Any

import pytest

from graph_schema import default_schema
from server.expansion.features import expansion_features, one_hot_columns
from server.expansion.graph import attribute_columns
from server.refresh.graph import Graph
from tests.refresh.conftest import anyio_backend, graph  # noqa: F401 (fixtures)

pytestmark = pytest.mark.anyio

PEOPLE: list[dict[str, Any]] = [
    {"customerId": f"c{i}", "city": None if i % 3 == 0 else f"city{i % 4}",
     "gender": None if i % 5 == 0 else ("f" if i % 2 else "m"), "loyaltyTier": f"t{i % 2}"}
    for i in range(23)
]  # fmt: skip


async def test_attribute_columns_equal_a_plain_read_per_key(graph: Graph) -> None:  # noqa: F811
    await graph.write(lambda tx: tx.run(
        "UNWIND $rows AS r CREATE (c:Customer {customerId: r.customerId}) "
        "SET c.city = r.city, c.gender = r.gender, c.loyaltyTier = r.loyaltyTier",
        rows=PEOPLE,
    ))  # fmt: skip
    schema = default_schema()
    profile = schema.require_entity("Customer")
    strings = expansion_features(schema, "Customer").strings
    attrs = [a for a in strings if a.name in ("city", "gender", "loyaltyTier")]
    # unknown keys, repeated keys, and batches that end mid-list
    keys: list[Any] = ["c4", "nobody", "c0", "c4", *[p["customerId"] for p in PEOPLE], "c22"]

    columns = await attribute_columns(graph, profile, attrs, keys, batch_size=4, workers=3)

    by_key = {p["customerId"]: p for p in PEOPLE}
    expected = [[by_key[k][a.name] if k in by_key else None for k in keys] for a in attrs]
    assert columns == expected
    assert await attribute_columns(graph, profile, [], keys) == []


def test_one_hot_columns_mark_each_value_and_leave_missing_at_zero() -> None:
    attrs = [a for a in expansion_features(default_schema(), "Customer").strings
             if a.name in ("city", "gender")]  # fmt: skip
    columns: list[list[object]] = [[p["city"] for p in PEOPLE], [p["gender"] for p in PEOPLE]]
    names, matrix = one_hot_columns("Customer", attrs, columns, len(PEOPLE))
    assert len(names) == 4 + 2  # city0-3 and f/m; missing values have no column
    for j, name in enumerate(names):
        attribute, _, value = name.removeprefix("Customer.").partition("=")
        assert matrix[:, j].tolist() == [float(p[attribute] == value) for p in PEOPLE]
