"""The assignment function against blake2b digests computed apart from Python (coreutils
`printf 'seed-1\\0KEY' | b2sum`, first 16 hex digits), and its spread."""

from __future__ import annotations

from collections import Counter

import pytest

from server.splits.buckets import BUCKETS, bucket_of, flatten, in_ranges, unflatten

# key -> first 8 bytes of BLAKE2b-512("seed-1\0" + key), as printed by b2sum.
B2SUM = {
    "c0001": "0727e142dfa71dd7",
    "42": "30e9a0b51c668a8c",
    "alice@example.com": "63df566b4ee3a509",
}


@pytest.mark.parametrize(("key", "digest"), sorted(B2SUM.items()))
def test_bucket_is_the_first_8_bytes_of_blake2b_mod_10000(key: str, digest: str) -> None:
    assert bucket_of("seed-1", key) == int(digest, 16) % BUCKETS


def test_known_buckets() -> None:
    assert [bucket_of("seed-1", k) for k in ("c0001", "42", "alice@example.com")] == [
        3591, 700, 3129
    ]  # fmt: skip


def test_an_integer_key_hashes_as_its_decimal_text() -> None:
    assert bucket_of("seed-1", 42) == bucket_of("seed-1", "42")


def test_the_seed_changes_the_assignment() -> None:
    keys = [f"c{i}" for i in range(200)]
    same = sum(bucket_of("a", k) == bucket_of("b", k) for k in keys)
    assert same < 5


def test_buckets_spread_evenly() -> None:
    tenths = Counter(bucket_of("spread", i) // 1000 for i in range(20_000))
    assert set(tenths) == set(range(10))
    assert all(1_800 <= n <= 2_200 for n in tenths.values())  # 2,000 expected, sd ~42


def test_ranges_are_half_open_and_round_trip_as_flat_lists() -> None:
    ranges = ((0, 1000), (2500, 2600))
    assert [in_ranges(b, ranges) for b in (0, 999, 1000, 2499, 2500, 2599, 2600)] == [
        True, True, False, False, True, True, False
    ]  # fmt: skip
    assert unflatten(flatten(ranges)) == ranges
