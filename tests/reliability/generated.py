"""Valid segment texts for the reliability tests, from the differential test's seeded generator
(tests/grammar/random_segments.py) over its scenarios' schemas and clocks; and mutations of them."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from tests.grammar.random_data import Pools
from tests.grammar.random_segments import Ctx, SegmentGenerator
from tests.grammar.test_differential import SCENARIOS, Scenario

# Words, quoted strings/names, numbers and dates, operators, punctuation: good enough to cut
# valid text into pieces a mutation moves around.
TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|`[^`]*`|[\w.:+-]+|!=|<=|>=|\S')


def generators(seed: int, size: int = 6) -> Iterator[tuple[Scenario, SegmentGenerator]]:
    """One generator per differential scenario, seeded from `seed`, forever round-robin."""
    made = [
        (s, SegmentGenerator(s.schema, Pools.of(s.clock), random.Random(seed * 31 + i), size,
                             hops=s.hops))
        for i, s in enumerate(SCENARIOS)
    ]  # fmt: skip
    while True:
        yield from made


def valid_texts(seed: int) -> Iterator[tuple[Scenario, str]]:
    for scenario, generator in generators(seed):
        yield scenario, generator.segment()


def kilobyte_text(generator: SegmentGenerator, size: int = 1024) -> str:
    """A valid segment of about `size` characters: random conditions joined by `and`."""
    audience = generator.rng.choice(generator.schema.profiles)
    parts: list[str] = []
    head = f"segment {generator.ident(audience.name)}\nwhere "
    while len(head) + sum(len(p) + 5 for p in parts) < size - 60:
        generator.budget = 6
        parts.append(generator.condition(Ctx(audience), 0))
    return head + "\nand ".join(parts)


def mutate(text: str, rng: random.Random, donors: list[str]) -> str:
    """`text` with 1 to 3 token edits: insert (a token of a donor text), delete, or swap."""
    tokens = TOKEN.findall(text)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("insert", "delete", "swap", "replace"))
        i = rng.randrange(len(tokens) + 1)
        if kind == "insert" or not tokens:
            tokens.insert(i, rng.choice(TOKEN.findall(rng.choice(donors)) or ["x"]))
        elif kind == "delete":
            del tokens[min(i, len(tokens) - 1)]
        elif kind == "swap":
            j = rng.randrange(len(tokens))
            i = min(i, len(tokens) - 1)
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens[min(i, len(tokens) - 1)] = rng.choice(TOKEN.findall(rng.choice(donors)))
    return " ".join(tokens)
