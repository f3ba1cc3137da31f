"""Golden files: `golden/NAME.seg` (segment text; a `# schema: club` line picks the schema) ->
`NAME.cypher` (the members query) and `NAME.params.json`. `UPDATE_GOLDEN=1` rewrites them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import grammar
from graph_schema import GraphSchema
from tests.grammar.schemas import CLUB, DEFAULT, NOW

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def cases() -> list[str]:
    return sorted(p.stem for p in GOLDEN.glob("*.seg"))


def schema_for(name: str) -> GraphSchema:
    return CLUB if name.startswith("club") else DEFAULT


def compile_case(name: str) -> grammar.CompiledSegment:
    text = (GOLDEN / f"{name}.seg").read_text()
    return grammar.compile_segment(text, schema_for(name), now=NOW)


def encode(value: Any) -> Any:
    """Params as JSON, temporal values tagged so the files show their types."""
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def params_text(params: dict[str, Any]) -> str:
    return (
        json.dumps({k: encode(v) for k, v in params.items()}, indent=1, ensure_ascii=False) + "\n"
    )
