"""The importer against the real Neo4j, on a small custom schema (not the default one)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from textwrap import dedent

import neo4j
import pytest
from neo4j.time import Date, DateTime

from graph_schema import GraphSchema, parse_schema
from graph_schema.import_report import DataImportError, ImportProgress
from graph_schema.importer import import_directory

pytestmark = pytest.mark.services

SCHEMA = dedent(
    """\
    entities:
      Member:
        key: memberId
        profile: true
        csv: members.csv
        attributes:
          memberId: integer
          name: string
          joined: date
          vip: {type: boolean, indexed: true}
          score: float
      Store:
        key: code
        csv: stores.csv
        attributes: {code: string, city: {type: string, indexed: true}}
      Purchase:
        key: purchaseId
        csv: purchases.csv
        attributes: {purchaseId: string, amount: float, at: datetime}
    relationships:
      MADE:
        from: Member
        to: Purchase
        csv: purchases.csv
        from_column: buyer
        attributes: {at: datetime}  # a relationship attribute from the node file's column
      AT_STORE: {from: Purchase, to: Store, csv: purchases.csv, to_column: store}
      FAVOURS:
        from: Member
        to: Store
        csv: favourites.csv
        to_column: store
        attributes: {since: date, rank: {type: integer, indexed: true}}
    """
)

FILES = {
    "members.csv": "memberId,name,joined,vip,score\n"
    '1,Ann,2024-01-02,true,1.5\n2,"Bob ""B"", Jr.",,no,\n3,Zoë,2023-12-31,0,-2\n',
    "stores.csv": "code,city\nS1,Oslo\nS2,\n",
    "purchases.csv": "purchaseId,buyer,store,amount,at\n"
    "P1,1,S1,10.5,2024-05-01T10:00:00\n"
    "P2,2,S2,3,2024-05-01 11:00:00+02:00\n"
    "P3,,S1,1,2024-05-02T00:00:00Z\n",
    "favourites.csv": "memberId,store,since,rank\n1,S1,2023-01-01,1\n2,S2,,\n",
}


def write_files(folder: Path, extra: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (folder / name).write_text(text + (extra or {}).get(name, ""), encoding="utf-8")
    return folder


@pytest.fixture
def schema() -> GraphSchema:
    return parse_schema(SCHEMA, "shop.yaml")


def fingerprint(driver: neo4j.Driver) -> str:
    """A hash of every node and relationship with its properties, independent of element ids."""
    nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p").records
    rels = driver.execute_query(
        "MATCH (a)-[e]->(b) RETURN labels(a) AS la, properties(a) AS pa, type(e) AS t, "
        "properties(e) AS pe, labels(b) AS lb, properties(b) AS pb"
    ).records
    lines = sorted(repr((sorted(r["l"]), sorted(r["p"].items()))) for r in nodes)
    lines += sorted(
        repr([r["t"], *(sorted(r[k].items()) for k in ("pa", "pe", "pb")), r["la"], r["lb"]])
        for r in rels
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def count(driver: neo4j.Driver, pattern: str) -> int:
    return int(driver.execute_query(f"MATCH {pattern} RETURN count(*) AS c").records[0]["c"])


def test_round_trip_counts_types_constraints_indexes(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    events: list[ImportProgress] = []
    report = import_directory(empty_graph, schema, write_files(tmp_path), progress=events.append)

    assert report.ok
    found = [(f.file, f.name, f.rows, f.written, f.linked, f.relationships) for f in report.files]
    assert found == [
        ("members.csv", "Member", 3, 3, (), 0),
        ("stores.csv", "Store", 2, 2, (), 0),
        # Foreign keys in the node file ride along: 2 MADE (P3 has no buyer: not an error) + 3.
        ("purchases.csv", "Purchase", 3, 3, ("MADE", "AT_STORE"), 5),
        ("favourites.csv", "FAVOURS", 2, 2, (), 0),  # a join file has its own pass
    ]
    assert report.rows == 10
    assert report.summary() == "10 rows read, 10 written, 0 bad rows skipped"
    assert (count(empty_graph, "(:Member)"), count(empty_graph, "(:Purchase)")) == (3, 3)
    assert count(empty_graph, "(:Member)-[:MADE]->(:Purchase)") == 2
    assert count(empty_graph, "(:Member)-[:FAVOURS]->(:Store)") == 2

    bob = empty_graph.execute_query("MATCH (m:Member {memberId: 2}) RETURN m").records[0]["m"]
    assert dict(bob) == {"memberId": 2, "name": 'Bob "B", Jr.', "vip": False}  # empty = absent
    ann = empty_graph.execute_query("MATCH (m:Member {memberId: 1}) RETURN m").records[0]["m"]
    assert ann["joined"] == Date(2024, 1, 2)
    assert (ann["vip"], ann["score"]) == (True, 1.5)
    at = {
        r["id"]: r["at"]
        for r in empty_graph.execute_query(
            "MATCH (p:Purchase) RETURN p.purchaseId AS id, p.at AS at"
        ).records
    }
    assert all(isinstance(v, DateTime) and v.tzinfo is not None for v in at.values())
    assert at["P1"].utcoffset().total_seconds() == 0  # naive = UTC
    assert at["P2"].utcoffset().total_seconds() == 0  # +02:00 in the file, stored in UTC
    assert (at["P2"].hour, at["P2"].minute) == (9, 0)  # the same instant as 11:00+02:00
    made = empty_graph.execute_query(
        "MATCH (:Member {memberId: 1})-[e:MADE]->(:Purchase) RETURN e.at AS at"
    ).records
    assert [r["at"] for r in made] == [at["P1"]]
    fav = empty_graph.execute_query("MATCH ()-[f:FAVOURS {rank: 1}]->() RETURN f").records[0]
    assert fav["f"]["since"] == Date(2023, 1, 1)

    constraints = {r["name"]: r for r in empty_graph.execute_query("SHOW CONSTRAINTS").records}
    assert set(report.constraints) == {
        "Member_memberId_key",
        "Store_code_key",
        "Purchase_purchaseId_key",
    }
    for name in report.constraints:
        assert constraints[name]["type"] == "UNIQUENESS"
    indexes = {r["name"]: r for r in empty_graph.execute_query("SHOW INDEXES").records}
    assert set(report.indexes) == {"Member_vip_idx", "Store_city_idx", "FAVOURS_rank_idx"}
    for name in report.indexes:
        assert (indexes[name]["type"], indexes[name]["state"]) == ("RANGE", "ONLINE")
    assert indexes["FAVOURS_rank_idx"]["entityType"] == "RELATIONSHIP"

    assert events[0].rows_done == 0
    assert {(e.file, e.rows_done, e.rows_total) for e in events} >= {("members.csv", 3, 3)}
    assert events[-1].file_index == events[-1].files_total - 1


def test_importing_twice_gives_the_same_graph(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path)
    import_directory(empty_graph, schema, folder)
    first = fingerprint(empty_graph)
    second_report = import_directory(empty_graph, schema, folder)
    assert fingerprint(empty_graph) == first
    assert second_report.ok
    assert count(empty_graph, "()-[]->()") == 7


BAD = {
    "members.csv": "x,Bad key,2024-01-01,true,1\n4,Bad date,2024-13-01,true,1\n5,Short\n"
    ',No key,2024-01-01,true,1\n6,Bad bool,2024-01-01,maybe,1\n7,"multi\nline",,true,nan\n',
    "purchases.csv": "P4,9,S1,1,2024-05-02T00:00:00Z\nP5,1,S9,abc,\nP6,1,S9,2,\n",
    "favourites.csv": "99,S1,2023-01-01,1\n",
}


def test_bad_rows_are_reported_with_position_and_skipped(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    report = import_directory(empty_graph, schema, write_files(tmp_path, BAD))

    found = [(b.file, b.line, b.column, b.column_name) for b in report.bad_rows]
    assert found == [
        ("members.csv", 5, 1, "memberId"),
        ("members.csv", 6, 3, "joined"),
        ("members.csv", 7, None, None),
        ("members.csv", 8, 1, "memberId"),
        ("members.csv", 9, 4, "vip"),
        ("members.csv", 10, 5, "score"),  # the row starts on line 10 and ends on 11
        ("purchases.csv", 6, 4, "amount"),
        ("purchases.csv", 5, 2, "buyer"),  # unknown Member 9
        ("purchases.csv", 7, 3, "store"),  # unknown Store S9 (P5 was already reported)
        ("favourites.csv", 4, 1, "memberId"),
    ]
    reasons = [b.reason for b in report.bad_rows]
    assert "not an integer: 'x'" in reasons[0]
    assert "expected 5 fields, found 2" in reasons[2]
    assert "empty key" in reasons[3]
    assert "boolean" in reasons[4]
    assert "finite" in reasons[5]
    assert "unknown Member 9" in reasons[7]
    assert report.bad_row_count == 10
    assert [f.bad for f in report.files] == [6, 0, 3, 1]
    # The summary accounts for every row read: written, skipped as bad, or with nothing to link.
    read, written = sum(f.rows for f in report.files), sum(f.written for f in report.files)
    assert report.summary() == f"{read:,} rows read, {written:,} written, 10 bad rows skipped"
    assert written < read
    assert count(empty_graph, "(:Member)") == 3  # good rows are all in
    assert count(empty_graph, "(:Purchase)") == 5  # P4 and P6 exist, only their links failed


def test_strict_aborts_at_the_first_bad_row_before_its_batch(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path, {"purchases.csv": "P5,1,S1,abc,\n"})
    with pytest.raises(DataImportError) as info:
        import_directory(empty_graph, schema, folder, strict=True)
    bad = info.value.bad_row
    assert (bad.file, bad.line, bad.column, bad.column_name) == ("purchases.csv", 5, 4, "amount")
    assert count(empty_graph, "(:Member)") == 3  # earlier files stay imported
    assert count(empty_graph, "(:Purchase)") == 0  # the bad row's batch was not written


def test_strict_rolls_back_a_batch_with_an_unknown_end(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path, {"favourites.csv": "99,S1,2023-01-01,1\n"})
    with pytest.raises(DataImportError, match="unknown Member 99"):
        import_directory(empty_graph, schema, folder, strict=True)
    assert count(empty_graph, "()-[:FAVOURS]->()") == 0


def test_strict_rolls_back_a_node_batch_with_an_unknown_anchor(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path, {"purchases.csv": "P4,9,S1,1,\n"})
    with pytest.raises(DataImportError, match="unknown Member 9 for MADE"):
        import_directory(empty_graph, schema, folder, strict=True)
    assert count(empty_graph, "(:Purchase)") == 0


def test_relationships_in_a_cycle_get_their_own_pass(
    empty_graph: neo4j.Driver, tmp_path: Path
) -> None:
    cyclic = parse_schema(
        dedent(
            """\
            entities:
              A: {key: id, profile: true, csv: a.csv, attributes: {id: string}}
              B: {key: id, csv: b.csv, attributes: {id: string}}
            relationships:
              A_TO_B: {from: A, to: B, csv: a.csv, from_column: id, to_column: b}
              B_TO_A: {from: B, to: A, csv: b.csv, from_column: id, to_column: a}
            """
        ),
        "cycle.yaml",
    )
    (tmp_path / "a.csv").write_text("id,b\na1,b1\na2,\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,a\nb1,a2\n", encoding="utf-8")
    report = import_directory(empty_graph, cyclic, tmp_path)
    assert report.ok
    assert [(f.name, f.linked) for f in report.files] == [
        ("A", ()),
        ("B", ("B_TO_A",)),
        ("A_TO_B", ()),
    ]
    assert count(empty_graph, "(:A {id: 'a1'})-[:A_TO_B]->(:B {id: 'b1'})") == 1
    assert count(empty_graph, "(:B {id: 'b1'})-[:B_TO_A]->(:A {id: 'a2'})") == 1


def test_missing_file_and_missing_key_column(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path)
    (folder / "favourites.csv").unlink()
    (folder / "stores.csv").write_text("city\nOslo\n", encoding="utf-8")
    report = import_directory(empty_graph, schema, folder)
    assert report.missing_files == ("favourites.csv",)
    assert [(b.file, b.line, b.column_name) for b in report.bad_rows[:1]] == [
        ("stores.csv", 1, "code")
    ]
    with pytest.raises(DataImportError, match=r"favourites\.csv"):
        import_directory(empty_graph, schema, folder, strict=True)


class Crash(Exception):
    pass


def test_crash_mid_import_then_rerun_equals_a_clean_import(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    more = {
        "members.csv": "".join(f"{i},M{i},2024-01-01,true,{i}\n" for i in range(10, 400)),
        "purchases.csv": "".join(f"Q{i},{10 + i % 390},S{1 + i % 2},{i},\n" for i in range(900)),
    }
    folder = write_files(tmp_path, more)
    import_directory(empty_graph, schema, folder, batch_size=50)
    clean = fingerprint(empty_graph)

    from tests.conftest import wipe_graph

    for crash_after in (5, 20, 30):  # progress events: inside members.csv, twice in purchases
        wipe_graph(empty_graph)
        seen = 0

        def crash(event: ImportProgress, limit: int = crash_after) -> None:
            nonlocal seen
            seen += 1
            if seen > limit:
                raise Crash

        with pytest.raises(Crash):
            import_directory(empty_graph, schema, folder, batch_size=50, progress=crash)
        assert fingerprint(empty_graph) != clean
        import_directory(empty_graph, schema, folder, batch_size=50)
        assert fingerprint(empty_graph) == clean


HOSTILE = [
    "`) DETACH DELETE n //",
    "'; MATCH (n) DETACH DELETE n; '",
    'a"b',
    "x\ny",
    "\u0060\u0060",
    "$rows",
]


def test_hostile_values_round_trip_as_parameters(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path)
    lines = "".join(
        f'{10 + i},"{v.replace(chr(34), chr(34) * 2)}",,,\n' for i, v in enumerate(HOSTILE)
    )
    (folder / "members.csv").write_text("memberId,name,joined,vip,score\n" + lines, "utf-8")
    report = import_directory(empty_graph, schema, folder)
    names = empty_graph.execute_query(
        "MATCH (m:Member) RETURN m.name AS name ORDER BY m.memberId"
    ).records
    assert [r["name"] for r in names] == HOSTILE
    assert count(empty_graph, "(:Store)") == 2  # nothing was deleted or injected
    assert report.bad_row_count == 4  # members 1 and 2 are gone: their purchases, favourites


def test_separate_relationship_passes_build_the_same_graph(
    empty_graph: neo4j.Driver, schema: GraphSchema, tmp_path: Path
) -> None:
    folder = write_files(tmp_path, BAD)
    merged = import_directory(empty_graph, schema, folder)
    expected = fingerprint(empty_graph)
    from tests.conftest import wipe_graph

    wipe_graph(empty_graph)
    separate = import_directory(empty_graph, schema, folder, merge_foreign_keys=False)
    assert fingerprint(empty_graph) == expected
    assert [f.name for f in separate.files][-3:] == ["MADE", "AT_STORE", "FAVOURS"]
    assert separate.bad_row_count == merged.bad_row_count
