"""A membership's span, the one place that writes it in Cypher: a `_MEMBER` relationship is a
member of every version from its `since` up to, not including, its `until` (open while
`until` is null). See membership.py for how refreshes write spans."""

from __future__ import annotations

from typing import LiteralString


def member_at(version: LiteralString, edge: LiteralString = "m") -> LiteralString:
    """The predicate "`edge` is a membership of `version`" (a `$parameter` or a variable)."""
    return f"{edge}.since <= {version} AND ({edge}.until IS NULL OR {edge}.until > {version})"
