"""Bulk forms of the segment actions: each segment is handled on its own (one transaction
each), and problems carry the index of the id they concern (`["ids", "3"]`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments import actions
from server.api.segments.commands import Outcome
from server.api.segments.domain import get, not_found
from server.store.records import Dependent, SegmentRecord, SegmentState

MAX_IDS = 500


@dataclass(frozen=True, slots=True)
class BulkResult:
    segments: tuple[SegmentRecord, ...]
    deleted: tuple[str, ...]
    dependents: tuple[Dependent, ...]
    problems: tuple[Problem, ...]


def _at(problems: tuple[Problem, ...], index: int) -> list[Problem]:
    """Re-point a single action's problems at the bulk input's `ids[index]`."""
    field = ("ids", str(index))
    return [Problem(p.code, field if p.field == ("id",) else (*field, *p.field), p.message)
            for p in problems]  # fmt: skip


def _too_many(ids: list[str]) -> BulkResult | None:
    if 0 < len(ids) <= MAX_IDS:
        return None
    problem = Problem(UserErrorCode.LIMIT_EXCEEDED, ("ids",), f"give 1 to {MAX_IDS} ids")
    return BulkResult((), (), (), (problem,))


async def _each(
    ids: list[str], action: Callable[[str], Awaitable[Outcome[SegmentRecord]]]
) -> BulkResult:
    done: list[SegmentRecord] = []
    problems: list[Problem] = []
    for i, segment_id in enumerate(ids):
        outcome = await action(segment_id)
        done += [outcome.value] if outcome.value else []
        problems += _at(outcome.problems, i)
    return BulkResult(tuple(done), (), (), tuple(problems))


async def set_state(deps: Deps, ids: list[str], state: SegmentState) -> BulkResult:
    return _too_many(ids) or await _each(ids, lambda i: actions.set_state(deps, i, state))


async def edit_tags(deps: Deps, ids: list[str], add: list[str], remove: list[str]) -> BulkResult:
    """Add and remove tags on many segments, keeping each one's other tags."""
    dropped = {t.strip().casefold() for t in remove}

    async def one(segment_id: str) -> Outcome[SegmentRecord]:
        seg = await get(deps, segment_id)
        if seg is None:
            return Outcome.fail(not_found())
        kept = [t for t in (*seg.tags, *add) if t.strip().casefold() not in dropped]
        return await actions.set_tags(deps, segment_id, kept)

    return _too_many(ids) or await _each(ids, one)


async def delete(deps: Deps, ids: list[str], force: bool) -> BulkResult:
    too_many = _too_many(ids)
    if too_many:
        return too_many
    deleted: list[str] = []
    dependents: list[Dependent] = []
    problems: list[Problem] = []
    for i, segment_id in enumerate(ids):
        outcome = await actions.delete(deps, segment_id, force)
        if outcome.value and outcome.value.deleted:
            deleted.append(segment_id)
        dependents += outcome.value.dependents if outcome.value else ()
        problems += _at(outcome.problems, i)
    return BulkResult((), tuple(deleted), tuple(dependents), tuple(problems))
