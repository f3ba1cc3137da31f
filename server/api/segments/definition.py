"""The one place the API asks the segment language whether a definition compiles.

`check_definition` returns a `DefinitionCheck` (canonical text and JSON when valid, coded
diagnostics with positions otherwise, and the names of the segments the definition reads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from graph_schema.model import GraphSchema
from server.store.records import Diagnostic


@dataclass(frozen=True, slots=True)
class DefinitionCheck:
    text: str
    json: str | None
    valid: bool
    diagnostics: tuple[Diagnostic, ...]
    references: tuple[str, ...]


EMPTY_DEFINITION = "EMPTY_DEFINITION"


def check_definition(
    text: str | None,
    tree: object | None,
    schema: GraphSchema,
    *,
    audience: str,
    timezone: str,
    now: datetime,
) -> DefinitionCheck:
    """Compile a definition given as text or as its JSON tree; never raises for bad input."""
    written = text if text is not None else ""
    tree_text = json.dumps(tree, sort_keys=True) if tree is not None else None
    if not written.strip() and tree is None:
        problem = Diagnostic(code=EMPTY_DEFINITION, message="the definition is empty")
        return DefinitionCheck(written, None, False, (problem,), ())
    # TODO(grammar): call grammar.compile_segment once it lands; until then any non-empty
    # definition is accepted as written.
    return DefinitionCheck(written, tree_text, True, (), ())
