"""Building the AST while lark's LALR parser reduces, instead of building a parse tree and
walking it afterwards: a third of the parse time went to tree nodes, position propagation and
the second walk.

lark calls one callback per reduced rule with the rule's children. Ours wraps each builder
method: it unwraps the children's results, computes the node's position from its first and
last child (what lark's `propagate_positions` did) and the size limits (what a walk of the
finished tree did), calls the method, and hands the result up in a `Node`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lark import Token

from grammar import limits
from grammar.errors import ErrorCode, SegmentError, Span

Method = Callable[[Any, "Node", list[Any]], Any]

# Rules reduced for a parenthesised condition or group: they hand the inside up unchanged, but
# the parentheses belong to the parent's span. They add no nesting level, as lark's inlining
# (`?rule`) did not: the limit counts what the text nests, not how the grammar is written.
PARENTHESES = frozenset({"negation", "set_atom"})


class Node:
    """A rule's result with where it came from: what a builder method sees as its `meta`."""

    __slots__ = ("column", "conditions", "depth", "empty", "end_pos", "line", "start_pos", "value")

    value: Any
    empty: bool
    start_pos: int
    end_pos: int
    line: int
    column: int
    depth: int  # parse tree levels below and including this one
    conditions: int  # predicates in this subtree

    def span(self) -> Span | None:
        if self.empty:
            return None
        return Span(offset=self.start_pos, end=self.end_pos, line=self.line, column=self.column)


def wrap(method: Method, builder: Any, name: str) -> Callable[[list[Any]], Node]:
    predicate = name in limits.PREDICATES
    level = 0 if name in PARENTHESES else 1

    def reduce(children: list[Any]) -> Node:
        node = Node()
        values: list[Any] = []
        first: Node | Token | None = None
        last: Node | Token | None = None
        depth, conditions = 0, int(predicate)
        for child in children:
            if type(child) is Node:
                values.append(child.value)
                depth = max(depth, child.depth)
                conditions += child.conditions
                if child.empty:
                    continue
            else:  # a Token: the parser keeps every terminal (keep_all_tokens), even `(`
                values.append(child)
            if first is None:
                first = child
            last = child
        node.depth, node.conditions = depth + level, conditions
        if first is None or last is None:
            node.empty = True
        else:
            node.empty = False
            node.start_pos, node.end_pos = first.start_pos or 0, last.end_pos or 0
            node.line, node.column = first.line or 1, first.column or 1
        if node.depth > limits.MAX_TREE_DEPTH:
            msg = "The segment is nested too deeply."
            raise SegmentError(ErrorCode.LIMIT_EXCEEDED, msg, _start(node))
        if conditions > limits.MAX_CONDITIONS:
            raise limits.exceeded("conditions", limits.MAX_CONDITIONS, _start(node))
        node.value = method(builder, node, values)
        return node

    return reduce


def _start(node: Node) -> Span | None:
    span = node.span()
    return (
        None
        if span is None
        else Span(offset=span.offset, end=span.offset, line=span.line, column=span.column)
    )


class Callbacks:
    """What lark's `transformer` option reads: one attribute per rule name."""

    def __init__(self, builder: Any, methods: dict[str, Method]) -> None:
        for name, method in methods.items():
            setattr(self, name, wrap(method, builder, name))
