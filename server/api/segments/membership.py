"""Why is a profile in a segment, or why not: the stored answer (the active membership) beside
the definition evaluated now on that profile's neighbourhood by the reference evaluator.

The two can differ: data changed since the last refresh, or the segment is static. Only the
profile's neighbourhood is read (one query per relationship chain the definition walks), so
the answer costs a few index seeks, not an evaluation of the segment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from grammar import CompiledSegment, ErrorCode, SegmentError, compile_segment
from grammar.cypher import escape
from grammar.explain_membership import ClauseResult, explain_membership
from grammar.neighbourhood import (
    KEYS_PARAM,
    dataset_from_rows,
    memberships_from_rows,
    memberships_query,
    neighbourhood_queries,
)
from graph_schema import AttrType, Entity
from server.api.context import Deps
from server.api.errors import ApiError
from server.api.errors import ErrorCode as ApiCode
from server.splits.buckets import bucket_of, in_ranges
from server.store import members
from server.store.definitions import get_definition
from server.store.evaluate import QueryTimedOut, execute_read
from server.store.records import SegmentRecord, SplitGroupInfo

BUDGET_S = 5.0


@dataclass(frozen=True, slots=True)
class Clause:
    """One node of the clause tree, flattened in depth-first order (`parent` is an index)."""

    index: int
    parent: int | None
    depth: int
    text: str
    truth: bool | None
    detail: str


@dataclass(frozen=True, slots=True)
class MembershipReport:
    key: str
    found: bool  # the audience has a profile with this key
    member: bool  # in the active (stored) membership
    matches: bool | None  # the definition evaluated now; None without a valid definition
    evaluated_at: datetime | None
    clauses: tuple[Clause, ...]


def profile_key(entity: Entity, text: str) -> str | int:
    """The key as stored: integer keys compare as integers. Raises ApiError."""
    attribute = entity.key_attribute
    if attribute.type is not AttrType.INTEGER:
        return text
    try:
        return int(text)
    except ValueError:
        message = f"{entity.name}.{attribute.name} is an integer; got {text!r}"
        raise ApiError(ApiCode.BAD_USER_INPUT, message) from None


async def explain(
    deps: Deps, seg: SegmentRecord, profile: str, as_of: datetime | None
) -> MembershipReport:
    """Raises ApiError: a malformed key, a definition on PII for a caller without the grant,
    or a neighbourhood too large to read within the budget."""
    entity = deps.schema.require_entity(seg.audience)
    key = profile_key(entity, profile)
    member = await members.is_member(deps.db, seg.id, key)
    if seg.split_group is not None:
        return await _split_group(deps, seg.split_group, entity, key, member)
    compiled = await _compiled(deps, seg, as_of or deps.clock())
    if compiled is None:  # static, or no valid definition: only the stored answer
        found = bool(await _read(deps, _exists_query(entity), {KEYS_PARAM: [key]}))
        return MembershipReport(str(key), found, member, None, None, ())
    results = [
        await _read(deps, q.text, {**q.params, KEYS_PARAM: [key]})
        for q in neighbourhood_queries(compiled.bound)
    ]
    stored: dict[str, Any] = {}
    if compiled.referenced_segments:
        q = memberships_query(compiled.bound)
        stored = memberships_from_rows(await _read(deps, q.text, {**q.params, KEYS_PARAM: [key]}))
    dataset = dataset_from_rows(compiled.bound, results)
    explanation = explain_membership(compiled.bound, dataset, key, segments=stored)
    return MembershipReport(
        key=str(key),
        found=explanation.found,
        member=member,
        matches=explanation.member,
        evaluated_at=compiled.now,
        clauses=tuple(_flatten(explanation.body, None, 0, iter(range(1_000_000)))),
    )


async def _split_group(
    deps: Deps, group: SplitGroupInfo, entity: Entity, key: str | int, member: bool
) -> MembershipReport:
    """A split group's members are its parent's members whose bucket it owns: say both."""
    found = bool(await _read(deps, _exists_query(entity), {KEYS_PARAM: [key]}))
    in_parent = await members.is_member(deps.db, group.parent_id, key)
    bucket = bucket_of(group.seed, key)
    owned = in_ranges(bucket, group.ranges)
    shown = ", ".join(f"[{start}, {end})" for start, end in group.ranges)
    clauses = (
        Clause(0, None, 0, "and", in_parent and owned, ""),
        Clause(1, 0, 1, "in the parent segment (active membership)", in_parent, ""),
        Clause(2, 0, 1, f"bucket in {shown}", owned, f"bucket {bucket} of 10000"),
    )
    return MembershipReport(str(key), found, member, found and in_parent and owned, None, clauses)


async def _compiled(deps: Deps, seg: SegmentRecord, now: datetime) -> CompiledSegment | None:
    definition = await get_definition(deps.db, seg.id, seg.definition_version)
    if definition is None or not definition.valid or not definition.text.strip():
        return None
    try:
        return compile_segment(
            definition.text, deps.schema, now=now, timezone=seg.timezone,
            allow_pii=deps.principal.reads_pii,
        )  # fmt: skip
    except SegmentError as exc:
        if exc.code is ErrorCode.NOT_PERMITTED:
            message = "this segment filters on PII attributes; explaining it needs READ_PII"
            raise ApiError(ApiCode.FORBIDDEN, message) from None
        return None  # the schema changed under a saved definition: nothing to explain


def _exists_query(entity: Entity) -> str:
    key = escape.prop("n", entity.key_attribute)
    return f"MATCH (n:{escape.label(entity)}) WHERE {key} IN ${KEYS_PARAM} RETURN 1 AS found"


async def _read(deps: Deps, text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        found = await execute_read(deps.db, text, params, BUDGET_S)
    except QueryTimedOut:
        message = "this profile's related records are too many to explain in time"
        raise ApiError(ApiCode.BAD_USER_INPUT, message) from None
    return [dict(r) for r in found]


def _flatten(
    node: ClauseResult, parent: int | None, depth: int, numbers: Iterator[int]
) -> Iterator[Clause]:
    index = next(numbers)
    yield Clause(index, parent, depth, node.text, node.truth, node.detail)
    for child in node.children:
        yield from _flatten(child, index, depth + 1, numbers)
