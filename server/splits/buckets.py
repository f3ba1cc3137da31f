"""The assignment of a profile to one of 10,000 buckets (basis points of the population).

    bucket = int.from_bytes(blake2b(seed + "\\0" + str(key)).digest()[:8], "big") % 10_000

blake2b is the 64-byte digest of hashlib's default; the text is UTF-8. A bucket depends only on
the split's seed and the profile's key: never on the other members, the order they are read in
or the time of the refresh, so a profile keeps its bucket for as long as the seed stays.
(2**64 is not a multiple of 10,000; the bias this leaves is below 1e-15 per bucket.)

A group owns a set of buckets, kept as sorted, disjoint, half-open ranges [start, end).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

BUCKETS = 10_000

Range = tuple[int, int]
Ranges = tuple[Range, ...]


def bucket_of(seed: str, key: str | int) -> int:
    """The bucket (0..9999) of the profile with `key` in the split with `seed`."""
    digest = hashlib.blake2b(f"{seed}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def in_ranges(bucket: int, ranges: Ranges) -> bool:
    return any(start <= bucket < end for start, end in ranges)


def size(ranges: Ranges) -> int:
    """How many buckets the ranges hold."""
    return sum(end - start for start, end in ranges)


def flatten(ranges: Ranges) -> list[int]:
    """As stored on a node: [start0, end0, start1, end1, ...] (Neo4j has no nested lists)."""
    return [bound for pair in ranges for bound in pair]


def unflatten(bounds: Sequence[int]) -> Ranges:
    return tuple((int(bounds[i]), int(bounds[i + 1])) for i in range(0, len(bounds) - 1, 2))
