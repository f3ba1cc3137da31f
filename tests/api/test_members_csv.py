"""Members as CSV: streamed in batches, formula-safe cells, chosen columns."""

from __future__ import annotations

import csv
import io

import neo4j

from tests.api.conftest import Api, create_ok
from tests.api.test_members import node_id


def test_members_csv(api: Api, empty_graph: neo4j.Driver) -> None:
    seg = create_ok(api, name="all")
    empty_graph.execute_query(
        "MATCH (s:_Segment {id: $id}) SET s.activeVersion = 1, s.versionSeq = 1 "
        "WITH s UNWIND range(1, 2500) AS i "
        "CREATE (p:Customer {customerId: 'c' + right('0000' + toString(i), 5), "
        "  name: CASE i WHEN 7 THEN '=HYPERLINK(\"http://x\")' ELSE 'n' + i END, city: 'Oslo'}) "
        "CREATE (s)-[:_MEMBER {segmentId: s.id, key: p.customerId, since: 1}]->(p)",
        id=node_id(seg["id"]),
    )
    response = api.client.get(f"/segments/{seg['id']}/members.csv?columns=name,CITY")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["key", "name", "city"]
    assert len(rows) == 2501
    assert rows[1] == ["c00001", "n1", "Oslo"]
    assert rows[7][1] == '\'=HYPERLINK("http://x")'
    assert [r[0] for r in rows[1:]] == sorted(r[0] for r in rows[1:])


def test_members_csv_errors(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    assert api.client.get(f"/segments/{seg['id']}/members.csv?columns=nope").status_code == 400
    assert api.client.get("/segments/bogus/members.csv").status_code == 404
    empty = api.client.get(f"/segments/{seg['id']}/members.csv")
    assert empty.text.splitlines()[0].startswith("key,customerId,")
