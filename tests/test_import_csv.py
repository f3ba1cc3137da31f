"""CSV reading and type conversion, offline: what the importer will send for each cell."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_schema import parse_schema
from graph_schema.convert import to_boolean, to_date, to_datetime, to_float, to_integer
from graph_schema.csv_batches import count_rows, plan_entity, read_batches, read_header
from graph_schema.import_plan import plan_load

SCHEMA = parse_schema(
    """
entities:
  Member:
    key: id
    profile: true
    csv: m.csv
    attributes: {id: integer, name: string, ok: boolean, at: datetime, born: date, x: float}
""",
    "m.yaml",
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("FALSE", False), ("yes", True), ("0", False), (" t ", True), ("", None)],
)
def test_booleans(text: str, value: bool | None) -> None:
    assert to_boolean(text) is value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-05-01T10:00:00", "2024-05-01T10:00:00+00:00"),  # naive means UTC
        ("2024-05-01 10:00:00+02:00", "2024-05-01T08:00:00+00:00"),  # stored in UTC
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00+00:00"),
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
    ],
)
def test_datetimes_are_stored_in_utc(text: str, value: str) -> None:
    assert to_datetime(text) == value


def test_negative_zero_is_stored_as_zero() -> None:
    value = to_float("-0.0")
    assert value == 0.0
    assert str(value) == "0.0"  # not "-0.0", which Neo4j orders below 0.0


def test_scalars_and_their_errors() -> None:
    assert (to_integer("42"), to_float("1e3"), to_date("2000-02-29")) == (42, 1000.0, "2000-02-29")
    for convert, text in [
        (to_integer, "4.2"), (to_float, "nan"), (to_float, "inf"), (to_date, "2023-02-29"),
        (to_datetime, "yesterday"), (to_boolean, "maybe"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match="not a"):
            convert(text)


def test_bom_crlf_quoted_newlines_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    text = '\ufeffid,name,ok,at,born,x,extra\r\n1,"two\r\nlines",yes,,,,z\r\n\r\n2,b,no,,,2.5,\r\n'
    path.write_bytes(text.encode("utf-8"))
    header = read_header(path)
    assert header[0] == "id"  # the BOM is not part of the first name
    entity = SCHEMA.require_entity("Member")
    (batch,) = read_batches(path, plan_entity(entity, header, "m.csv"), 100)
    assert batch.rows == [
        (1, "two\r\nlines", True, None, None, None),
        (2, "b", False, None, None, 2.5),
    ]
    assert batch.lines == [2, 5]  # where each row starts; the blank line 4 is skipped
    assert count_rows(path) == 4  # newline estimate for progress only


def test_bad_cells_fall_back_to_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("id,name,x\n1,a,1\n2,b,oops\n3,c\n,d,4\n5,e,5\n", encoding="utf-8")
    entity = SCHEMA.require_entity("Member")
    (batch,) = read_batches(path, plan_entity(entity, read_header(path), "m.csv"), 100)
    assert [r[0] for r in batch.rows] == [1, 5]
    assert [(b.line, b.column, b.column_name) for b in batch.bad] == [
        (3, 3, "x"), (4, None, None), (5, 1, "id"),
    ]  # fmt: skip
    assert batch.read == 5


def test_load_order_puts_anchors_first() -> None:
    schema = parse_schema(
        """
entities:
  Line: {key: id, csv: lines.csv, attributes: {id: string}}
  Order: {key: id, csv: orders.csv, attributes: {id: string}}
  Customer: {key: id, profile: true, csv: customers.csv, attributes: {id: string}}
relationships:
  HAS_LINE: {from: Order, to: Line, csv: lines.csv, from_column: orderId, to_column: id}
  PLACED: {from: Customer, to: Order, csv: orders.csv, from_column: customerId, to_column: id}
  LIKES: {from: Customer, to: Line, csv: likes.csv, from_column: c, to_column: l}
""",
        "o.yaml",
    )
    headers = {
        "lines.csv": ["id", "orderId"], "orders.csv": ["id"], "customers.csv": ["id"],
        "likes.csv": ["c", "l"],
    }  # fmt: skip
    plan = plan_load(schema, headers)
    assert [(e.name, [k.relationship.type for k in links]) for e, links in plan.entities] == [
        ("Order", []),
        ("Line", ["HAS_LINE"]),
        ("Customer", []),
    ]  # fmt: skip  (schema order, except that Line waits for its anchor Order)
    # orders.csv lacks customerId: PLACED keeps its own pass (which reports the missing column)
    assert [r.type for r in plan.relationships] == ["PLACED", "LIKES"]
