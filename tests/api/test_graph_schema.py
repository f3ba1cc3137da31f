"""`graphSchema` serves the loaded data model: entities, attributes, relationships, paths."""

from __future__ import annotations

from tests.api.conftest import Api

QUERY = """
{
  graphSchema {
    name audiences
    entities { name key profile attributes { name type pii }
               pathsToAudiences(maxHops: 2) {
                 start end description steps { relationship direction } } }
    relationships { type source target cardinality }
  }
}
"""


def test_graph_schema(api: Api) -> None:
    schema = api.data(QUERY)["graphSchema"]
    assert {"Customer", "Account", "Contact"} <= set(schema["audiences"])
    entities = {e["name"]: e for e in schema["entities"]}
    email = next(a for a in entities["Customer"]["attributes"] if a["name"] == "email")
    assert email == {"name": "email", "type": "STRING", "pii": True}
    paths = entities["Order"]["pathsToAudiences"]
    to_customer = [p for p in paths if p["end"] == "Customer"]
    assert to_customer
    assert len(to_customer[0]["steps"]) == 1
    assert all(p["start"] == "Order" for p in paths)
    assert schema["relationships"]
