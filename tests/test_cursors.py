"""Cursors are written by hand for speed (server/store/pages.py): the oracle is the compact JSON
encoder they were made with before, so cursors handed out earlier stay valid and equal."""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from server.store.pages import decode_cursor, encode_cursor

_ORACLE = json.JSONEncoder(separators=(",", ":"))


def oracle(scope: str, key: str | int, row_id: str) -> str:
    raw = _ORACLE.encode([scope, key, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(st.text(), st.one_of(st.text(), st.integers()), st.text())
def test_cursor_is_the_compact_json_encoding(scope: str, key: str | int, row_id: str) -> None:
    cursor = encode_cursor(scope, key, row_id)
    assert cursor == oracle(scope, key, row_id)
    position = decode_cursor(scope, cursor)
    assert (position.key, position.id) == (key, row_id)
