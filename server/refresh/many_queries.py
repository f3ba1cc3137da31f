"""Several compiled definitions evaluated in one query, each restricted to its own keys: the
keyed refreshes of one live change read in one round trip, not one per segment.

Each definition's `keys_cypher` becomes a scoped subquery (`CALL () { ... }`, nothing leaks in
or out but its collected keys), with its parameters renamed apart (`$p0` of the third one is
`$q2_p0`). Renaming is safe on the compiler's output: values only ever appear as `$name`
parameters, and names from the schema cannot hold a `$`. A query's labels and relationship
types come from the schema as before; nothing else is added to its text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from server.refresh.graph import Graph, compiled
from server.refresh.records import MemberQuery

KEYS = "keys"
# Restricted definitions per query: a few round trips for a wide level, a query text (and
# plan) of bounded size; the chunks are sent at once.
EVALUATE_TOGETHER = 4


def chunked(queries: Sequence[MemberQuery]) -> list[list[int]]:
    """The positions of `queries` sent together, chunk by chunk. Alike definitions (one
    template, other thresholds) side by side: chunks of them print the same query text
    whichever segments they hold, so Neo4j plans each text once (and plan warm-up,
    `server.live.warm_plans`, predicts the texts a round sends)."""
    order = sorted(range(len(queries)), key=lambda i: queries[i].keys_cypher or "")
    return [order[n : n + EVALUATE_TOGETHER] for n in range(0, len(order), EVALUATE_TOGETHER)]


def combined_query(wanted: Sequence[tuple[MemberQuery, list[Any]]]) -> tuple[str, dict[str, Any]]:
    """One query returning `found`: per (definition, keys) in order, the keys it selects.
    Raises ValueError for a definition without a form restricted to keys."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    for i, (query, keys) in enumerate(wanted):
        if query.keys_cypher is None:
            raise ValueError("this definition has no form restricted to given keys")
        text = _renamed(query.keys_cypher, {*query.params, KEYS}, f"q{i}_")
        parts.append(f"CALL () {{ CALL () {{ {text} }} RETURN collect(key) AS k{i} }}")
        params |= {f"q{i}_{name}": value for name, value in query.params.items()}
        params[f"q{i}_{KEYS}"] = keys
    found = ", ".join(f"k{i}" for i in range(len(wanted)))
    return "\n".join(parts) + f"\nRETURN [{found}] AS found", params


def _renamed(text: str, names: set[str], prefix: str) -> str:
    """`text` with each `$name` of `names` (whole names only) as `$prefix` + name."""
    longest_first = sorted(names, key=len, reverse=True)
    pattern = re.compile(r"\$(" + "|".join(map(re.escape, longest_first)) + r")\b")
    return pattern.sub(lambda m: f"${prefix}{m.group(1)}", text)


async def evaluate_many(
    graph: Graph, wanted: Sequence[tuple[MemberQuery, list[Any]]]
) -> list[set[Any]]:
    """Which of its keys each definition selects now, in one read. Raises Neo4j errors (one
    bad definition fails the whole query: the caller evaluates them one by one then)."""
    if not wanted:
        return []
    text, params = combined_query(wanted)
    records = await graph.read_with(compiled(text), params)
    return [set(keys) for keys in records[0]["found"]]
