"""Generic traversal of bound trees, for the few consumers that need every condition."""

from __future__ import annotations

from collections.abc import Iterator

from grammar import bound as b


def groups_of(body: b.BoundSetExpr) -> Iterator[b.BoundGroup]:
    """The groups of a set expression, left to right."""
    if isinstance(body, b.BoundGroup):
        yield body
    else:
        yield from groups_of(body.left)
        yield from groups_of(body.right)


def conditions_of(body: b.BoundSetExpr) -> Iterator[b.BoundCondition]:
    """Every condition, nested ones included (inside blocks and events), in source order."""
    for group in groups_of(body):
        yield from _walk(group.condition)


def conditions_of_condition(node: b.BoundCondition) -> Iterator[b.BoundCondition]:
    """`node` and every condition nested in it, in source order."""
    return _walk(node)


def _children(node: b.BoundCondition) -> tuple[b.BoundCondition | None, ...]:
    match node:
        case b.BoundAnd(items=items) | b.BoundOr(items=items):
            return items
        case b.BoundNot(item=item):
            return (item,)
        case b.BoundRelated(condition=inner) | b.BoundAggregate(condition=inner):
            return (inner,)
        case b.BoundSequence(first=first, second=second):
            return (first.condition, second.condition)
    return ()


def _walk(node: b.BoundCondition) -> Iterator[b.BoundCondition]:
    yield node
    for child in _children(node):
        if child is not None:
            yield from _walk(child)
