"""The AST as JSON, for visual builders: `{"node": "Comparison", "attribute": {...}, ...}`.

Derived from the AST dataclasses themselves (field names, enum values, ISO dates), so the JSON
form, its JSON Schema (`segment.schema.json`) and the text form can never drift apart. Spans are
not part of the JSON form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import types
from enum import Enum
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

from grammar import ast as a
from grammar import limits
from grammar.errors import ErrorCode, SegmentError

NODES: dict[str, Any] = {
    cls.__name__: cls
    for cls in vars(a).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == a.__name__
}
MAX_JSON_DEPTH = 120


def to_json(node: Any) -> Any:
    """A JSON-ready value (dicts, lists, strings, numbers, booleans, None) for an AST node."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        out: dict[str, Any] = {"node": type(node).__name__}
        for f in _fields(type(node)):
            out[f.name] = to_json(getattr(node, f.name))
        return out
    if isinstance(node, tuple):
        return [to_json(item) for item in node]
    if isinstance(node, Enum):
        return node.value
    if isinstance(node, dt.date):  # datetimes too
        return node.isoformat()
    return node


def decode_json(data: Any) -> a.Segment:
    """The Segment tree `data` (parsed JSON) describes, checked for shape and types only: use
    `grammar.from_json`, which also checks values by reparsing the canonical text.

    Raises SegmentError INVALID_JSON (naming the offending location) for anything that is not
    a well-formed segment tree, LIMIT_EXCEEDED for one too deep or too large.
    """
    segment = _Decoder().decode(data, a.Segment, "$", 0)
    assert isinstance(segment, a.Segment)
    return segment


@cache
def _fields(cls: Any) -> tuple[dataclasses.Field[Any], ...]:
    return tuple(f for f in dataclasses.fields(cls) if f.name != "span")


@cache
def hints(cls: Any) -> dict[str, Any]:
    return get_type_hints(cls, vars(a))


def arms(hint: Any) -> tuple[Any, ...]:
    """The alternatives of a union type (a single type is its own only arm)."""
    if get_origin(hint) in (Union, types.UnionType):
        return get_args(hint)
    return (hint,)


def _invalid(where: str, message: str) -> SegmentError:
    return SegmentError(ErrorCode.INVALID_JSON, f"{where}: {message}")


class _Decoder:
    def __init__(self) -> None:
        self.count = 0

    def decode(self, value: Any, hint: Any, where: str, depth: int) -> Any:
        self.count += 1
        if depth > MAX_JSON_DEPTH or self.count > limits.MAX_CONDITIONS * 40:
            raise SegmentError(ErrorCode.LIMIT_EXCEEDED, f"{where}: the tree is too large.")
        options = arms(hint)
        if isinstance(value, dict):
            return self._node(value, options, where, depth)
        for option in options:
            found = self._scalar(value, option, where, depth)
            if found is not _NO:
                return found
        raise _invalid(where, f"expected {_describe(options)}, got {kind(value)}")

    def _node(self, value: dict[str, Any], options: tuple[Any, ...], where: str, depth: int) -> Any:
        name = value.get("node")
        cls = NODES.get(name) if isinstance(name, str) else None
        if cls is None or cls not in options:
            got = f"a {name} node" if cls else repr(name) if name is not None else "no \"node\""
            raise _invalid(where, f"expected {_describe(options)}, got {got}")
        known = {f.name for f in _fields(cls)} | {"node"}
        extra = sorted(set(value) - known)
        if extra:
            raise _invalid(where, f"unknown field {extra[0]!r} in {name}")
        kwargs: dict[str, Any] = {}
        for f in _fields(cls):
            if f.name in value:
                kwargs[f.name] = self.decode(
                    value[f.name], hints(cls)[f.name], f"{where}.{f.name}", depth + 1
                )
            elif f.default is dataclasses.MISSING:
                raise _invalid(where, f"{name} needs {f.name!r}")
        return cls(**kwargs)

    def _scalar(self, value: Any, hint: Any, where: str, depth: int) -> Any:
        if get_origin(hint) is tuple:
            if not isinstance(value, list):
                return _NO
            if len(value) > limits.MAX_LIST_VALUES:
                raise SegmentError(ErrorCode.LIMIT_EXCEEDED, f"{where}: too many items.")
            item = get_args(hint)[0]
            return tuple(
                self.decode(v, item, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
            )
        return _leaf(value, hint, where)


class _Missing:
    pass


_NO: Any = _Missing()


def _leaf(value: Any, hint: Any, where: str) -> Any:
    if hint is type(None):
        return None if value is None else _NO
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(value, hint)
    if hint is bool:
        return value if isinstance(value, bool) else _NO
    if hint is int:
        return value if type(value) is int and abs(value) <= limits.MAX_INT else _NO
    if hint is float:
        ok = type(value) is float and math.isfinite(value)
        return value if ok else _NO
    if hint is str:
        if isinstance(value, str) and len(value) > limits.MAX_STRING_LENGTH:
            raise SegmentError(ErrorCode.LIMIT_EXCEEDED, f"{where}: the string is too long.")
        return value if isinstance(value, str) else _NO
    if hint in (dt.date, dt.datetime):
        return _temporal(value, hint, where)
    return _NO


def _enum(value: Any, hint: type[Enum]) -> Any:
    try:
        return hint(value)
    except ValueError:
        return _NO


def _temporal(value: Any, hint: Any, where: str) -> Any:
    if not isinstance(value, str) or len(value) > 40:
        return _NO
    try:
        parsed = hint.fromisoformat(value)
    except ValueError:
        raise _invalid(where, f"{value!r} is not an ISO {hint.__name__}") from None
    if hint is dt.date and isinstance(parsed, dt.datetime):
        return _NO
    return parsed


def kind(value: Any) -> str:
    """What a JSON value is, for messages: its type, and a short string itself."""
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else "a string"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else "null"


_NAMES: dict[Any, str] = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
          dt.date: "an ISO date", dt.datetime: "an ISO datetime", type(None): "null"}  # fmt: skip


def _describe(options: tuple[Any, ...]) -> str:
    names = []
    for option in options:
        if get_origin(option) is tuple:
            names.append("a list")
        elif isinstance(option, type) and issubclass(option, Enum):
            names.append("one of " + ", ".join(repr(m.value) for m in option))
        elif option in NODES.values():
            names.append(f"a {option.__name__} node")
        else:
            names.append(_NAMES.get(option, getattr(option, "__name__", str(option))))
    return " or ".join(names)
