"""From percentages to bucket ranges, and changes of percentages that move few profiles.

A new split lays its groups out in order from bucket 0: 10% / 10% gives [0, 1000) and
[1000, 2000); the rest is unassigned. A change keeps what it can: a group that shrinks gives
back its highest buckets, and groups that grow (or are new) take the lowest free buckets, in the
order given. A profile therefore changes group only when its bucket was given back or taken:
members of a group whose percentage did not change never move, and growing one group never
shifts another.
"""

from __future__ import annotations

from collections.abc import Mapping

from server.splits.buckets import BUCKETS, Range, Ranges, size

PERCENT_BUCKETS = BUCKETS // 100  # buckets per percent: one decimal of a percent is 10 buckets


def buckets_for(percent: float) -> int | None:
    """Buckets for a percentage given with at most one decimal (0 to 100); None otherwise."""
    tenths = round(percent * 10)
    if not 0 <= tenths <= 1000 or abs(percent * 10 - tenths) > 1e-6:
        return None
    return tenths * (PERCENT_BUCKETS // 10)


def percent_of(ranges: Ranges) -> float:
    return size(ranges) / PERCENT_BUCKETS


def allocate(current: Mapping[str, Ranges], wanted: Mapping[str, int]) -> dict[str, Ranges]:
    """New ranges for every group: those in `wanted` (name -> bucket count) resized, the rest of
    `current` unchanged. Raises ValueError when the counts do not fit in the buckets."""
    kept = dict(current) | {name: _lowest(current.get(name, ()), n) for name, n in wanted.items()}
    free = _complement(_merge([r for ranges in kept.values() for r in ranges]))
    for name, count in wanted.items():
        need = count - size(kept[name])
        if need <= 0:
            continue
        if need > size(free):
            raise ValueError("the groups need more than 100%")
        taken = _lowest(free, need)
        free = _complement(_merge([*_complement(free), *taken]))
        kept[name] = _merge([*kept[name], *taken])
    return kept


def _lowest(ranges: Ranges, count: int) -> Ranges:
    """The `count` lowest buckets of `ranges` (all of them when it holds fewer)."""
    found: list[Range] = []
    for start, end in ranges:
        if count <= 0:
            break
        found.append((start, min(end, start + count)))
        count -= found[-1][1] - start
    return tuple(found)


def _merge(ranges: list[Range]) -> Ranges:
    merged: list[Range] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _complement(ranges: Ranges) -> Ranges:
    """The buckets not in `ranges` (sorted, merged)."""
    gaps: list[Range] = []
    at = 0
    for start, end in ranges:
        if start > at:
            gaps.append((at, start))
        at = max(at, end)
    if at < BUCKETS:
        gaps.append((at, BUCKETS))
    return tuple(gaps)
