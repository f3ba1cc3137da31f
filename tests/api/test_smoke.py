from __future__ import annotations

from tests.api.conftest import Api, create_ok


def test_create_and_read(api: Api) -> None:
    seg = create_ok(api, name="oslo")
    data = api.data("query($id: ID!) { segment(id: $id) { name memberCount } }", id=seg["id"])
    assert data["segment"] == {"name": "oslo", "memberCount": 0}
