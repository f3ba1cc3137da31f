"""The JSON Schema of the JSON form, derived from the AST dataclasses like the form itself.

`python -m grammar.json_schema > grammar/segment.schema.json` regenerates the published file;
a test keeps the two equal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from enum import Enum
from typing import Any, get_args, get_origin

from grammar.json_form import NODES, _fields, arms, hints

SCHEMA_ID = "https://segments-engine.dev/schemas/segment.schema.json"


def json_schema() -> dict[str, Any]:
    definitions = {name: _node_schema(cls) for name, cls in sorted(NODES.items())}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Segment (JSON form)",
        "description": "The tree of a segment definition; see docs/query-language.md.",
        "$ref": "#/$defs/Segment",
        "$defs": definitions,
    }


def _node_schema(cls: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"node": {"const": cls.__name__}}
    required = ["node"]
    for f in _fields(cls):
        properties[f.name] = _type_schema(hints(cls)[f.name])
        if f.default is dataclasses.MISSING:
            required.append(f.name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _type_schema(hint: Any) -> dict[str, Any]:
    options = [_arm_schema(arm) for arm in arms(hint)]
    return options[0] if len(options) == 1 else {"anyOf": options}


def _arm_schema(hint: Any) -> dict[str, Any]:
    if get_origin(hint) is tuple:
        return {"type": "array", "items": _type_schema(get_args(hint)[0])}
    if hint is type(None):
        return {"type": "null"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"enum": [member.value for member in hint]}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if hint in simple:
        return {"type": simple[hint]}
    if hint is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if hint is dt.date:
        return {"type": "string", "format": "date"}
    return {"$ref": f"#/$defs/{hint.__name__}"}


def render() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
