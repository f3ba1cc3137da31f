"""Hostile payloads for the injection test: Cypher and GraphQL metacharacters, keywords (also in
fullwidth letters), comments, NUL, escapes and huge strings, alone and combined. Each payload is
deterministic for its index, so a failure names a payload that can be rebuilt."""

from __future__ import annotations

import itertools
import random

from tests.grammar.strategies import HOSTILE

EXTRA = [
    "`", "\\u0060", "\u0060) DETACH DELETE n //", "}]->(", "})<-[r]-(", "*/ MATCH (n) DETACH "
    "DELETE n /*", "CALL db.labels() YIELD label RETURN label", "CALL apoc.cypher.run('x', {})",
    "LOAD CSV FROM 'file:///etc/passwd' AS l", "DETACH DELETE", "ＤＥＴＡＣＨ　ＤＥＬＥＴＥ",
    "ＣＡＬＬ", "ＭＡＴＣＨ (n)", "\x00", "a\x00b", "\ufeff", "\u202e", "${p0}", "$p1", "{{x}}",
    "-- ", "#", "\r", "\t", "\\", "\\\\", "\\'", '\\"', "%s%s%n", "../../etc/passwd",
    "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1", "-1",
    "' }) RETURN 1 //", "MERGE (x:Hack) RETURN x", "SET n.hacked = true", "REMOVE n:Customer",
    "UNION MATCH (n) RETURN n",
]  # fmt: skip
BASES = [*HOSTILE, *EXTRA]
WRAPS = ["", "x", "Oslo", "a'", 'a"', " ", "\n", "1 OR 1=1 ", "`x"]
HUGE = ["A" * 6_000, "`" * 3_000, "'" * 10_000, "DETACH DELETE " * 1_000, "\x00" * 5_000]


def payload(index: int) -> str:
    """Payload number `index`: the huge ones first, then wrapped bases, then random mixes."""
    if index < len(HUGE):
        return HUGE[index]
    index -= len(HUGE)
    combos = len(BASES) * len(WRAPS) * len(WRAPS)
    if index < combos:
        base, rest = divmod(index, len(WRAPS) * len(WRAPS))
        before, after = divmod(rest, len(WRAPS))
        return WRAPS[before] + BASES[base] + WRAPS[after]
    rng = random.Random(index)
    return "".join(rng.choice(BASES) for _ in range(rng.randint(2, 4)))


def payloads(count: int, seed: int = 0) -> list[str]:
    """`count` payloads spread over the whole space (the huge ones always included)."""
    rng = random.Random(seed)
    space = len(HUGE) + len(BASES) * len(WRAPS) ** 2 + 10 * count
    picked = sorted(
        set(range(len(HUGE))) | set(rng.sample(range(len(HUGE), space), count - len(HUGE)))
    )
    return [payload(i) for i in itertools.islice(picked, count)]
