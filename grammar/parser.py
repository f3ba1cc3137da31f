"""Text -> AST. The lark parser is built once; lark's exceptions never leave this module."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from grammar import limits
from grammar.ast import Segment
from grammar.errors import ErrorCode, SegmentError, Span, did_you_mean
from grammar.inline import Node
from grammar.transform import callbacks


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The AST is built while the parser reduces (grammar/inline.py): no parse tree.
    return Lark.open(
        "segment.lark",
        rel_to=__file__,
        parser="lalr",
        lexer="contextual",
        strict=True,
        cache=True,
        keep_all_tokens=True,  # punctuation too, so that spans cover the parentheses
        transformer=callbacks(),
    )


def parse_segment(text: str) -> Segment:
    """Parse segment text into an AST.

    Raises SegmentError: SYNTAX_* for text that does not parse, INVALID_LITERAL for a bad
    date, number or escape, LIMIT_EXCEEDED for text that is too long or too deeply nested.
    """
    limits.check_text(text)
    try:
        node = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    assert isinstance(node, Node)
    assert isinstance(node.value, Segment)
    return node.value


# Common mistakes, keyed by the offending text (lowercased): a friendly message each.
FRIENDLY = {
    "==": "Use `=` to compare.",
    "<>": "Use `!=` for 'not equal'.",
    "&&": "Use `and` to combine conditions.",
    "&": "Use `and` to combine conditions.",
    "||": "Use `or` for alternatives.",
    "|": "Use `or` for alternatives.",
    "!": "Use `not` to negate a condition.",
    "null": "Write `is empty` (or `is not empty`) to test for a missing value.",
    "exclude": "Combine groups with `except` (D365's Exclude).",
    "minus": "Combine groups with `except`.",
    "like": 'Use `contains`, `starts with`, `ends with` or `matches "regex"`.',
    "does": "Write `not (name contains \"x\")` for 'does not contain'.",
    "[": 'Lists are written in parentheses: `country in ("FR", "DE")`.',
    "{": "Blocks about related records use parentheses: `any Order (total > 500)`.",
    ";": "A segment is a single statement: no `;` is needed.",
}


def _syntax_error(exc: UnexpectedInput, text: str) -> SegmentError:
    offset = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    token = getattr(exc, "token", None)
    if (
        isinstance(exc, UnexpectedEOF)
        or offset >= len(text)
        or getattr(token, "type", "") == "$END"
    ):
        span = Span.at(text, len(text))
        expected = _expected_names(getattr(exc, "expected", ()))
        return SegmentError(
            ErrorCode.SYNTAX_UNEXPECTED_END,
            "The segment ends too early" + _expecting(expected),
            span,
            expected=expected,
        )
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected(ErrorCode.SYNTAX_UNEXPECTED_CHARACTER, text, offset, exc.allowed)
    assert isinstance(exc, UnexpectedToken)
    return _unexpected(ErrorCode.SYNTAX_UNEXPECTED_TOKEN, text, offset, exc.accepts or exc.expected)


def _unexpected(code: ErrorCode, text: str, offset: int, allowed: Any) -> SegmentError:
    word = _word_at(text, offset)
    expected = _expected_names(allowed or ())
    span = Span.at(text, offset, offset + max(len(word), 1))
    pair = text[max(offset - 1, 0) : offset + 1]
    if pair in FRIENDLY and word.casefold() not in FRIENDLY:
        word, span = pair, Span.at(text, offset - 1, offset + 1)
    friendly = FRIENDLY.get(word.casefold())
    if friendly:
        return SegmentError(code, f"Unexpected `{word}`. {friendly}", span, expected=expected)
    keywords = [e for e in expected if e.isalpha() and e.islower()]
    suggestion = did_you_mean(word, keywords) if word.isidentifier() else None
    return SegmentError(
        code,
        f"Unexpected `{word}`" + _expecting(expected),
        span,
        expected=expected,
        suggestion=suggestion,
    )


def _word_at(text: str, offset: int) -> str:
    """The token-ish text at offset: an identifier or number, or a run of symbols."""
    end = offset
    if text[offset].isalnum() or text[offset] == "_":
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
    else:
        while end < len(text) and end - offset < 3 and text[end] in "=<>!&|[]{};":
            end += 1
        end = max(end, offset + 1)
    return text[offset:end][:40]


# How lark's terminal names read to a user.
_SYMBOLS = {
    "LPAR": "(",
    "RPAR": ")",
    "COMMA": ",",
    "DOT": ".",
    "EQUAL": "=",
    "LESSTHAN": "<",
    "MORETHAN": ">",
    "NAME": "a name",
    "QUOTED_NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DATE": "a date",
    "DATETIME": "a datetime",
    "$END": "the end",
}


def _expected_names(names: Any) -> tuple[str, ...]:
    out: set[str] = set()
    for name in names:
        if name in _SYMBOLS:
            out.add(_SYMBOLS[name])
        elif name.startswith("__ANON"):
            continue
        elif name.isupper() and name.isalpha():
            out.add(name.lower())
        else:
            out.add(_terminal_text(name))
    return tuple(sorted(out))


def _terminal_text(name: str) -> str:
    try:
        pattern = _parser().get_terminal(name).pattern
    except KeyError:
        return name.lower()
    return str(pattern.value)


def _expecting(expected: tuple[str, ...]) -> str:
    if not expected:
        return "."
    shown = ", ".join(f"`{e}`" if len(e) <= 2 else e for e in expected[:12])
    more = ", ..." if len(expected) > 12 else ""
    return f"; expected one of: {shown}{more}."
