"""Schema loading errors: one exception class carrying every problem found, each with a code.

Codes are API (clients and tests match them, never message text); positions are 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SchemaErrorCode(StrEnum):
    YAML_SYNTAX = "YAML_SYNTAX"
    INVALID_STRUCTURE = "INVALID_STRUCTURE"  # a list where a mapping belongs, and the like
    UNKNOWN_FIELD = "UNKNOWN_FIELD"  # a typo such as `indexd:`
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_VALUE = "INVALID_VALUE"  # bad boolean, cardinality, csv file name, key type
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    INVALID_IDENTIFIER = "INVALID_IDENTIFIER"
    RESERVED_NAME = "RESERVED_NAME"
    DUPLICATE_NAME = "DUPLICATE_NAME"
    MISSING_KEY = "MISSING_KEY"
    DANGLING_RELATIONSHIP = "DANGLING_RELATIONSHIP"
    NO_PROFILE = "NO_PROFILE"


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    code: SchemaErrorCode
    message: str
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.code}: {self.message}"


class SchemaError(Exception):
    """Raised by the loader with every issue found; `code`/`line`/`column` are the first one's."""

    def __init__(self, issues: tuple[SchemaIssue, ...]) -> None:
        assert issues, "a SchemaError carries at least one issue"
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))

    @property
    def code(self) -> SchemaErrorCode:
        return self.issues[0].code

    @property
    def file(self) -> str:
        return self.issues[0].file

    @property
    def line(self) -> int:
        return self.issues[0].line

    @property
    def column(self) -> int:
        return self.issues[0].column

    @property
    def codes(self) -> tuple[SchemaErrorCode, ...]:
        return tuple(i.code for i in self.issues)
