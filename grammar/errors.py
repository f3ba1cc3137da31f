"""One error type for every user mistake, with a stable code, a position and help.

Codes are API: clients and tests match `code`, never the message text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    SYNTAX_UNEXPECTED_TOKEN = "SYNTAX_UNEXPECTED_TOKEN"
    SYNTAX_UNEXPECTED_CHARACTER = "SYNTAX_UNEXPECTED_CHARACTER"
    SYNTAX_UNEXPECTED_END = "SYNTAX_UNEXPECTED_END"
    INVALID_LITERAL = "INVALID_LITERAL"
    INVALID_JSON = "INVALID_JSON"
    UNKNOWN_ENTITY = "UNKNOWN_ENTITY"
    UNKNOWN_ATTRIBUTE = "UNKNOWN_ATTRIBUTE"
    UNKNOWN_RELATIONSHIP = "UNKNOWN_RELATIONSHIP"
    UNKNOWN_TIMEZONE = "UNKNOWN_TIMEZONE"
    NOT_A_PROFILE = "NOT_A_PROFILE"
    NO_PATH = "NO_PATH"
    AMBIGUOUS_PATH = "AMBIGUOUS_PATH"
    AMBIGUOUS_TIME_ATTRIBUTE = "AMBIGUOUS_TIME_ATTRIBUTE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    INVALID_REGEX = "INVALID_REGEX"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    NOT_PERMITTED = "NOT_PERMITTED"


@dataclass(frozen=True, kw_only=True, slots=True)
class Span:
    """Half-open character range [offset, end) with the 1-based line and column of its start."""

    offset: int
    end: int
    line: int
    column: int

    @staticmethod
    def at(text: str, offset: int, end: int | None = None) -> Span:
        """The span of text[offset:end], computing line and column from the text."""
        offset = max(0, min(offset, len(text)))
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        return Span(offset=offset, end=offset if end is None else end, line=line, column=column)


MAX_ERRORS = 20  # reported for one definition


class SegmentError(Exception):
    """A mistake in a segment definition: what went wrong, where, and how to fix it."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        span: Span | None = None,
        *,
        expected: Iterable[str] = (),
        suggestion: str | None = None,
        candidates: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.span = span
        self.expected = tuple(sorted(set(expected)))
        self.suggestion = suggestion
        self.candidates = tuple(candidates)
        # Further mistakes found beside this one (sibling conditions), in text order: a
        # definition's independent mistakes are reported together, not one per attempt.
        self.more: tuple[SegmentError, ...] = ()

    def __str__(self) -> str:
        where = f" (line {self.span.line}, column {self.span.column})" if self.span else ""
        hint = f" Did you mean `{self.suggestion}`?" if self.suggestion else ""
        return f"{self.code}: {self.message}{where}{hint}"

    def with_more(self, others: Iterable[SegmentError]) -> SegmentError:
        """This error with `others` (and theirs) after its own, at most MAX_ERRORS in all."""
        found = [*self.more]
        for other in others:
            found += [other, *other.more]
        self.more = tuple(found[: MAX_ERRORS - 1])
        return self

    def all(self) -> tuple[SegmentError, ...]:
        """This error and the ones found beside it."""
        return (self, *self.more)

    def with_span(self, span: Span | None) -> SegmentError:
        """Fill a missing span from an enclosing node (deep errors get positions for free)."""
        if self.span is None and span is not None:
            self.span = span
        return self

    def to_dict(self) -> dict[str, object]:
        span = self.span
        return {
            "code": str(self.code),
            "message": self.message,
            "span": None
            if span is None
            else {"offset": span.offset, "end": span.end, "line": span.line, "column": span.column},
            "expected": list(self.expected),
            "suggestion": self.suggestion,
            "candidates": list(self.candidates),
        }


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to `word` ignoring case, if any is reasonably close."""
    by_fold = {c.casefold(): c for c in choices}
    found = difflib.get_close_matches(word.casefold(), list(by_fold), n=1, cutoff=0.6)
    return by_fold[found[0]] if found else None
