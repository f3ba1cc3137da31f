"""Facts about a segment for explain and estimates: clause texts and resolved paths."""

from __future__ import annotations

from grammar import ast as a
from grammar import bound as b
from grammar.formatter import condition
from grammar.walk import conditions_of


def clause_texts(segment: a.Segment) -> tuple[str, ...]:
    """Canonical text of each top-level clause, in the order of `forms.top_level_clauses`:
    the conjuncts of a single group, or each group of a set expression."""
    body = segment.body
    if isinstance(body, a.Group):
        cond = body.condition
        items = cond.items if isinstance(cond, a.And) else (cond,)
        return tuple(condition(item) for item in items)
    return tuple(_group_text(g) for g in _groups(body))


def _groups(body: a.SetExpr) -> list[a.Group]:
    if isinstance(body, a.Group):
        return [body]
    return _groups(body.left) + _groups(body.right)


def _group_text(group: a.Group) -> str:
    return "where " + condition(group.condition)


def resolved_paths(segment: b.BoundSegment) -> tuple[str, ...]:
    """Every relationship path the segment walks, described, distinct, in source order."""
    found: list[str] = []
    for node in conditions_of(segment.body):
        paths: tuple[b.BoundPath, ...] = ()
        match node:
            case b.BoundRelated(path=path) | b.BoundAggregate(path=path):
                paths = (path,)
            case b.BoundSequence(first=first, second=second):
                paths = (first.path, second.path)
        found += [p.describe() for p in paths if p.describe() not in found]
    return tuple(found)
