"""Size limits: every input is bounded before it can cost time or recursion depth."""

from __future__ import annotations

from grammar.errors import ErrorCode, SegmentError, Span

MAX_TEXT_LENGTH = 20_000
# Parse tree levels (rules reduced inside each other): about 40 nested blocks or `not`s.
MAX_TREE_DEPTH = 120
MAX_CONDITIONS = 300
MAX_LIST_VALUES = 1_000
MAX_GROUPS = 64
MAX_HOPS = 4
MAX_STRING_LENGTH = 5_000
MAX_REGEX_LENGTH = 200
MAX_INT = 2**63 - 1  # Cypher integers are 64-bit

# Window amounts: more than ~1000 years is a typo, and would overflow the calendar.
MAX_AMOUNT = {"hour": 10_000_000, "day": 400_000, "week": 60_000, "month": 12_000, "quarter": 4_000}
MAX_AMOUNT_DEFAULT = 1_000

PREDICATES = frozenset(  # the rules that count as conditions
    {
        "comparison", "before", "after", "between", "in_list", "not_in_list", "text_match",
        "regex_match", "is_empty", "is_not_empty", "is_true", "is_false", "in_window",
        "anniversary", "related", "related_all", "count", "aggregate", "in_segment", "sequence",
    }
)  # fmt: skip


def exceeded(what: str, limit: int, span: Span | None = None) -> SegmentError:
    return SegmentError(ErrorCode.LIMIT_EXCEEDED, f"Too many {what}: the limit is {limit}.", span)


def check_text(text: str) -> None:
    if len(text) > MAX_TEXT_LENGTH:
        raise SegmentError(
            ErrorCode.LIMIT_EXCEEDED,
            f"The segment is {len(text)} characters long; the limit is {MAX_TEXT_LENGTH}.",
            Span.at(text, MAX_TEXT_LENGTH, len(text)),
        )


def max_amount(unit_name: str) -> int:
    return MAX_AMOUNT.get(unit_name, MAX_AMOUNT_DEFAULT)
