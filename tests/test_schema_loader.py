"""The schema loader: one negative case per error code (code and position), and the happy paths."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from graph_schema import (
    AttrType,
    Cardinality,
    SchemaError,
    SchemaErrorCode,
    default_schema,
    load_schema,
    parse_schema,
    quote_identifier,
)

Code = SchemaErrorCode

VALID = dedent(
    """\
    name: shop
    entities:
      Member:
        key: memberId
        profile: true
        csv: members.csv
        attributes:
          memberId: integer
          email: {type: string, pii: true, indexed: true, description: Login.}
          joined: date
      Store:
        label: Shop
        key: code
        attributes: {code: string}
    relationships:
      VISITS:
        from: Member
        to: store
        cardinality: many-to-many
        csv: visits.csv
        to_column: storeCode
        attributes: {at: datetime}
    """
)


def test_valid_schema_builds_immutable_model() -> None:
    schema = parse_schema(VALID, "shop.yaml")
    member = schema.require_entity("member")
    assert schema.name == "shop"
    assert member.key == "memberId"
    assert member.csv == "members.csv"
    assert member.profile
    assert member.key_attribute.type is AttrType.INTEGER
    email = member.attribute("EMAIL")
    assert email is not None
    assert (email.indexed, email.pii, email.description) == (True, True, "Login.")
    assert schema.require_entity("Store").label == "Shop"
    (visits,) = schema.relationships
    assert (visits.source, visits.target) == ("Member", "Store")  # names are canonicalised
    assert visits.cardinality is Cardinality.MANY_TO_MANY
    assert (visits.source_column, visits.target_column) == ("memberId", "storeCode")
    assert [p.describe() for p in schema.paths("Store", "Member")] == ["Store <-VISITS- Member"]


def test_load_schema_reads_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "my_model.yaml"
    path.write_text(VALID.replace("name: shop\n", ""), encoding="utf-8")
    assert load_schema(path).name == "my_model"


def test_default_schema_has_the_reference_model() -> None:
    schema = default_schema()
    assert [e.name for e in schema.profiles] == ["Customer", "Account", "Contact"]
    for name in ("Order", "OrderLine", "Product", "Case", "WebSession", "EmailEvent", "Lead"):
        assert schema.entity(name) is not None, name
    customer = schema.require_entity("Customer")
    assert customer.attribute("email") is not None
    assert customer.attribute("email").pii  # type: ignore[union-attr]
    assert schema.paths("Product", "Customer")
    assert schema.paths("Contact", "Account")
    assert all(e.csv for e in schema.entities)


def _error(text: str) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        parse_schema(dedent(text), "bad.yaml")
    return info.value


ENTITY = "entities:\n  Member:\n    key: id\n    profile: true\n    attributes: {id: string}\n"

NEGATIVE = [
    (Code.YAML_SYNTAX, "entities: [1, 2\n", 2, 1),
    (Code.INVALID_STRUCTURE, "entities:\n  - Member\n", 2, 3),
    (Code.UNKNOWN_FIELD, ENTITY.replace("    key: id\n", "    key: id\n    indexd: true\n"), 4, 5),
    (Code.MISSING_FIELD, "name: x\n", 1, 1),
    (Code.INVALID_VALUE, ENTITY.replace("profile: true", "profile: maybe"), 4, 14),
    (Code.UNKNOWN_TYPE, ENTITY.replace("{id: string}", "{id: strng}"), 5, 22),
    (Code.INVALID_IDENTIFIER, ENTITY.replace("Member:", "Mem-ber:"), 2, 3),
    (Code.RESERVED_NAME, ENTITY.replace("Member:", "_Segment:"), 2, 3),
    (Code.DUPLICATE_NAME, ENTITY + "  MEMBER:\n    key: a\n    attributes: {a: string}\n", 6, 3),
    (Code.MISSING_KEY, ENTITY.replace("key: id", "key: nope"), 3, 10),
    (
        Code.DANGLING_RELATIONSHIP,
        ENTITY + "relationships:\n  R: {from: Member, to: Ghost}\n",
        7,
        25,
    ),
    (Code.NO_PROFILE, ENTITY.replace("    profile: true\n", ""), 1, 1),
]


@pytest.mark.parametrize(("code", "text", "line", "column"), NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_each_error_code_has_a_position(code: Code, text: str, line: int, column: int) -> None:
    error = _error(text)
    assert error.codes == (code,)
    assert (error.file, error.line, error.column) == ("bad.yaml", line, column)


def test_every_code_has_a_negative_case() -> None:
    assert {n[0] for n in NEGATIVE} == set(Code)


def test_all_errors_are_collected_in_file_order() -> None:
    error = _error(
        """\
        entities:
          Member:
            key: id
            profile: true
            attributes: {id: strin, _x: string, bad-name: string}
          member:
            key: id
            attributes: {id: string}
        relationships:
          R: {from: Member, to: Ghost, cardinality: lots}
        """
    )
    assert error.codes == (
        Code.UNKNOWN_TYPE, Code.RESERVED_NAME, Code.INVALID_IDENTIFIER, Code.DUPLICATE_NAME,
        Code.DANGLING_RELATIONSHIP, Code.INVALID_VALUE,
    )  # fmt: skip
    assert [i.line for i in error.issues] == [5, 5, 5, 6, 10, 10]


def test_labels_must_be_unique_ignoring_case() -> None:
    text = ENTITY + "  Other:\n    label: MEMBER\n    key: a\n    attributes: {a: string}\n"
    assert _error(text).codes == (Code.DUPLICATE_NAME,)


def test_key_must_be_string_or_integer() -> None:
    error = _error(ENTITY.replace("{id: string}", "{id: float}"))
    assert (error.code, error.line) == (Code.INVALID_VALUE, 3)


def test_csv_must_be_a_plain_file_name() -> None:
    error = _error(ENTITY + "    csv: ../../etc/passwd\n")
    assert (error.code, error.line, error.column) == (Code.INVALID_VALUE, 6, 10)


def test_join_columns_need_a_csv() -> None:
    text = ENTITY + "relationships:\n  R: {from: Member, to: Member, from_column: a}\n"
    assert _error(text).codes == (Code.MISSING_FIELD,)


def test_repeated_yaml_key_is_not_silently_dropped() -> None:
    assert _error(ENTITY + "entities: {}\n").codes == (Code.DUPLICATE_NAME,)


def test_empty_file() -> None:
    assert _error("").codes == (Code.INVALID_STRUCTURE,)


@pytest.mark.parametrize(
    ("name", "quoted"),
    [("Order", "`Order`"), ("a`b", "`a``b`"), ("``", "``````"), ("x y;//", "`x y;//`")],
)
def test_quote_identifier(name: str, quoted: str) -> None:
    assert quote_identifier(name) == quoted


@pytest.mark.parametrize("name", ["", "a\x00b"])
def test_quote_identifier_rejects_unusable_names(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        quote_identifier(name)


def test_graph_schema_imports_without_the_driver() -> None:
    """`grammar` depends on graph_schema, and must import with no neo4j installed."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['neo4j'] = None\n"
        "import graph_schema, graph_schema.importer, graph_schema.loader\n"
        "assert graph_schema.default_schema().profiles\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
