"""Relationship paths from one entity to another, chosen from the schema.

The shortest path wins when it is the only one of its length; otherwise the user names one
with `via`, each name a relationship type or an intermediate entity, in path order.
"""

from __future__ import annotations

from collections import OrderedDict

from grammar import ast as a
from grammar import limits
from grammar.bound import BoundPath
from grammar.errors import ErrorCode, SegmentError, Span, did_you_mean
from graph_schema import Entity, GraphSchema, Path


def resolve_path(
    schema: GraphSchema,
    origin: Entity,
    target: Entity,
    via: tuple[a.Identifier, ...],
    span: Span | None,
) -> BoundPath:
    """Raises UNKNOWN_RELATIONSHIP, NO_PATH, AMBIGUOUS_PATH (listing the candidates) or
    LIMIT_EXCEEDED (the only paths are longer than `limits.MAX_HOPS`)."""
    _check_via_names(schema, via)
    candidates = _matching(_paths(schema, origin.name, target.name, limits.MAX_HOPS), via)
    if not candidates:
        raise _no_path(schema, origin, target, via, span)
    shortest = [p for p in candidates if len(p.steps) == len(candidates[0].steps)]
    if len(shortest) > 1:
        described = [p.describe() for p in shortest]
        raise SegmentError(
            ErrorCode.AMBIGUOUS_PATH,
            f"{target.name} is reached from {origin.name} in several ways; name one with "
            f"`via`: " + "; ".join(described) + ".",
            span,
            candidates=described,
        )
    return _bind(schema, shortest[0])


_Memo = dict[tuple[str, str, int], tuple[Path, ...]]
_CACHE: OrderedDict[int, tuple[GraphSchema, _Memo]] = OrderedDict()
_CACHED_SCHEMAS = 8


def _paths(schema: GraphSchema, start: str, end: str, hops: int) -> tuple[Path, ...]:
    """`schema.paths`, memoised for the last few schema objects (schemas are immutable;
    enumerating simple paths is the costliest step of compiling). Holding the schema keeps
    its id from being reused while cached."""
    entry = _CACHE.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, {})
        _CACHE[id(schema)] = entry
        while len(_CACHE) > _CACHED_SCHEMAS:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(id(schema))
    key = (start, end, hops)
    if key not in entry[1]:
        entry[1][key] = schema.paths(start, end, max_hops=hops)
    return entry[1][key]


def _bind(schema: GraphSchema, path: Path) -> BoundPath:
    entities = tuple(schema.require_entity(name) for name in path.entities)
    return BoundPath(origin=entities[0], target=entities[-1], steps=path.steps, entities=entities)


def _names_on(path: Path) -> list[str]:
    """Relationship types and intermediate entities, in walking order, casefolded."""
    names: list[str] = []
    for index, step in enumerate(path.steps):
        names.append(step.relationship.type.casefold())
        if index < len(path.steps) - 1:
            names.append(step.destination.casefold())
    return names


def _matches(path: Path, via: tuple[a.Identifier, ...]) -> bool:
    remaining = iter(_names_on(path))
    return all(v.name.casefold() in remaining for v in via)  # in order: a subsequence


def _matching(paths: tuple[Path, ...], via: tuple[a.Identifier, ...]) -> list[Path]:
    return [p for p in paths if _matches(p, via)]


def _check_via_names(schema: GraphSchema, via: tuple[a.Identifier, ...]) -> None:
    known = [r.type for r in schema.relationships] + [e.name for e in schema.entities]
    folded = {k.casefold() for k in known}
    for name in via:
        if name.name.casefold() not in folded:
            raise SegmentError(
                ErrorCode.UNKNOWN_RELATIONSHIP,
                f"`{name.name}` is neither a relationship type nor an entity.",
                name.span,
                suggestion=did_you_mean(name.name, known),
                candidates=[r.type for r in schema.relationships],
            )


def _no_path(
    schema: GraphSchema,
    origin: Entity,
    target: Entity,
    via: tuple[a.Identifier, ...],
    span: Span | None,
) -> SegmentError:
    longer = _matching(_paths(schema, origin.name, target.name, limits.MAX_HOPS + 2), via)
    if longer:
        return SegmentError(
            ErrorCode.LIMIT_EXCEEDED,
            f"{target.name} is more than {limits.MAX_HOPS} relationships away from "
            f"{origin.name}: {longer[0].describe()}.",
            span,
        )
    unfiltered = [
        p.describe() for p in schema.paths(origin.name, target.name, max_hops=limits.MAX_HOPS)
    ]
    detail = f" through {' and '.join(v.name for v in via)}" if via else ""
    options = f" Paths that exist: {'; '.join(unfiltered)}." if unfiltered else ""
    return SegmentError(
        ErrorCode.NO_PATH,
        f"No path leads from {origin.name} to {target.name}{detail}.{options}",
        span,
        candidates=unfiltered,
    )
