"""Segment overlap: counts of profiles in every combination of 2 to 8 segments (only A, A and
B, ...), optionally broken down by an attribute of their audience."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments.commands import Outcome
from server.api.segments.domain import not_found
from server.store import segments as store
from server.store.overlap import OverlapCount, overlap_counts
from server.store.records import SegmentRecord

Code = UserErrorCode
MAX_SEGMENTS = 8  # 255 combinations


@dataclass(frozen=True, slots=True)
class Combination:
    segments: tuple[SegmentRecord, ...]  # exactly these, in the order asked
    count: int
    breakdown: tuple[tuple[str | None, int], ...]  # (value as text, count), largest first


async def segment_overlap(
    deps: Deps, ids: Sequence[str | None], breakdown: str | None
) -> Outcome[tuple[Combination, ...]]:
    """Every non-empty combination, largest first. Refused for fewer than 2 or more than 8
    segments (or one given twice), a missing segment, segments of different audiences, and an
    attribute the audience does not have (or a PII one without the PII grant)."""
    if not 2 <= len(ids) <= MAX_SEGMENTS or len(set(ids)) != len(ids):
        message = f"give 2 to {MAX_SEGMENTS} different segments"
        return Outcome.fail(Problem(Code.LIMIT_EXCEEDED, ("segments",), message))
    found = await store.get_segments(deps.db, [i or "" for i in ids])
    problems = [not_found(("segments", str(n))) for n, s in enumerate(found) if s is None]
    segments = [s for s in found if s is not None]
    if problems:
        return Outcome.fail(*problems)
    if len({s.audience for s in segments}) > 1:
        message = "the segments must share an audience"
        return Outcome.fail(Problem(Code.AUDIENCE_MISMATCH, ("segments",), message))
    attribute = _attribute(deps, segments[0].audience, breakdown)
    if isinstance(attribute, Problem):
        return Outcome.fail(attribute)
    counts = await overlap_counts(deps.db, [s.id for s in segments], attribute)
    return Outcome(_combinations(segments, counts, attribute is not None))


def _attribute(deps: Deps, audience: str, name: str | None) -> str | Problem | None:
    if name is None:
        return None
    attr = deps.schema.require_entity(audience).attribute(name)
    if attr is None or (attr.pii and not deps.principal.reads_pii):
        message = f"{audience} has no attribute {name!r} you may read"
        return Problem(Code.INVALID_VALUE, ("breakdown",), message)
    return attr.name


def _combinations(
    segments: list[SegmentRecord], counts: list[OverlapCount], broken_down: bool
) -> tuple[Combination, ...]:
    totals: dict[tuple[int, ...], int] = defaultdict(int)
    values: dict[tuple[int, ...], dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        totals[c.combination] += c.count
        values[c.combination][None if c.value is None else str(c.value)] += c.count
    out = [
        Combination(tuple(segments[i] for i in combo), total,
                    _largest(values[combo]) if broken_down else ())
        for combo, total in totals.items()
    ]  # fmt: skip
    return tuple(sorted(out, key=lambda c: (-c.count, [s.name for s in c.segments])))


def _largest(values: dict[str | None, int]) -> tuple[tuple[str | None, int], ...]:
    return tuple(sorted(values.items(), key=lambda v: (-v[1], str(v[0]))))
