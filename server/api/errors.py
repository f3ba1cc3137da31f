"""Error codes and the error policy of the GraphQL API.

Fixable input errors are data: mutation payloads carry `userErrors` (a `Problem` here). Anything
else goes to `errors[]` with `extensions.code`: our own `ApiError`s keep their code, limit and
syntax errors get theirs, and unexpected exceptions are masked as INTERNAL_SERVER_ERROR so no
internals leak.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import (
    ASTValidationRule,
    GraphQLError,
    GraphQLSyntaxError,
    ValidationContext,
    ValidationRule,
    ValueNode,
    ValuesOfCorrectTypeRule,
    VisitorAction,
    print_ast,
)
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import MaskErrors

log = logging.getLogger("segments.api")


class ErrorCode(StrEnum):
    """`extensions.code` of entries in `errors[]`."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    FORBIDDEN = "FORBIDDEN"
    INVALID_CURSOR = "INVALID_CURSOR"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"  # on one websocket (strawberry's 100)
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    UNAVAILABLE = "UNAVAILABLE"  # Neo4j or Redis unreachable: retry later


class UserErrorCode(StrEnum):
    """`code` of a mutation's `userErrors`."""

    NOT_FOUND = "NOT_FOUND"
    INVALID_NAME = "INVALID_NAME"
    NAME_TAKEN = "NAME_TAKEN"
    UNKNOWN_AUDIENCE = "UNKNOWN_AUDIENCE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    INVALID_TIMEZONE = "INVALID_TIMEZONE"
    INVALID_SCHEDULE = "INVALID_SCHEDULE"
    INVALID_TAG = "INVALID_TAG"
    INVALID_VALUE = "INVALID_VALUE"
    DEFINITION_INVALID = "DEFINITION_INVALID"
    DEFINITION_REQUIRED = "DEFINITION_REQUIRED"
    SEGMENT_IN_USE = "SEGMENT_IN_USE"
    NOT_STATIC = "NOT_STATIC"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    NOTHING_TO_CANCEL = "NOTHING_TO_CANCEL"
    SEGMENT_BUSY = "SEGMENT_BUSY"
    NOT_PERMITTED = "NOT_PERMITTED"
    ALREADY_SPLIT = "ALREADY_SPLIT"
    NOT_SPLIT = "NOT_SPLIT"
    SPLIT_GROUP = "SPLIT_GROUP"
    SPLIT_OVER_100 = "SPLIT_OVER_100"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    AUDIENCE_MISMATCH = "AUDIENCE_MISMATCH"
    INVALID_DESTINATION = "INVALID_DESTINATION"
    PATH_OUTSIDE_EXPORT_ROOT = "PATH_OUTSIDE_EXPORT_ROOT"
    MODEL_CONFLICT = "MODEL_CONFLICT"  # another published score model scores that entity
    NOT_PUBLISHED = "NOT_PUBLISHED"  # a score model that must be published is not
    UNKNOWN_FEATURE = "UNKNOWN_FEATURE"
    NOT_TRAINED = "NOT_TRAINED"  # a lead model version that does not exist (not trained yet)
    URL_NOT_ALLOWED = "URL_NOT_ALLOWED"  # a private/loopback address not in OUTGOING_ALLOW


@dataclass(frozen=True, slots=True)
class Problem:
    """A fixable input error: code, path of the input field, message, optional position."""

    code: UserErrorCode
    field: tuple[str, ...]
    message: str
    line: int | None = None
    column: int | None = None


class ApiError(GraphQLError):
    """An error for `errors[]` whose code the client may act on (never masked)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, extensions={"code": str(code)})


def log_errors(errors: list[GraphQLError]) -> None:
    """A client's mistake (bad input, a refused limit: coded errors the client acts on) is one
    INFO line; only an unexpected exception is logged with its traceback (masked for the
    client), so the server's log shows the bugs. An outage is one WARNING line: during one,
    every request meets it, and its cause is logged where readiness probes it."""
    from server.api.unavailable import is_unavailable

    for error in errors:
        code = (error.extensions or {}).get("code")
        if _is_expected(error):
            log.info("graphql request refused: %s", error.message,
                     extra={"code": code, "path": error.path})  # fmt: skip
        elif is_unavailable(error.original_error):
            log.warning("graphql request met an outage: %r", error.original_error,
                        extra={"path": error.path})  # fmt: skip
        else:
            log.error("graphql resolver failed: %s", error.message, exc_info=error.original_error,
                      extra={"path": error.path})  # fmt: skip


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is None or isinstance(original, GraphQLError)


def _count_tokens(query: str, limit: int) -> int:
    """Tokens in `query`, counting stops past `limit` (only used to explain a parse error)."""
    lexer, count = Lexer(Source(query)), 0
    try:
        while lexer.advance().kind is not TokenKind.EOF and count <= limit:
            count += 1
    except GraphQLSyntaxError:
        pass
    return count


def code_error(error: GraphQLError, max_tokens: int) -> GraphQLError:
    """Give an error without a code the code of its kind (in place; returns it)."""
    if error.extensions and "code" in error.extensions:
        return error
    error.extensions = {**(error.extensions or {}), "code": str(_code_for(error, max_tokens))}
    return error


def _code_for(error: GraphQLError, max_tokens: int) -> ErrorCode:
    if not isinstance(error, GraphQLSyntaxError):
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    query = error.source.body if error.source else ""
    if _count_tokens(query, max_tokens) > max_tokens:
        return ErrorCode.TOO_MANY_TOKENS
    return ErrorCode.GRAPHQL_PARSE_FAILED


class ErrorPolicy(MaskErrors):
    """MaskErrors that also gives every error an `extensions.code`. Parse errors raised by the
    parser cache never reach extensions: the HTTP view codes those (`code_error`)."""

    def __init__(self, max_tokens: int) -> None:
        super().__init__(should_mask_error=lambda e: not _is_expected(e))
        self.max_tokens = max_tokens

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        from server.api.unavailable import MESSAGE, is_unavailable

        masked = super().anonymise_error(error)
        if is_unavailable(error.original_error):  # an outage, not a bug: say so, typed
            masked.message = MESSAGE
            masked.extensions = {"code": str(ErrorCode.UNAVAILABLE)}
        else:
            masked.extensions = {"code": str(ErrorCode.INTERNAL_SERVER_ERROR)}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [code_error(e, self.max_tokens) for e in super()._process_errors(errors)]


def with_code(rule: type[ASTValidationRule], code: ErrorCode) -> type[ASTValidationRule]:
    """Wrap a validation rule so the errors it reports carry `code`.

    strawberry's depth and alias limiters report from their constructor, so the context's
    `report_error` is wrapped just while the wrapped rule is built.
    """

    class Coded(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            report: Callable[[GraphQLError], None] = context.report_error

            def coded(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": str(code)}
                report(error)

            context.report_error = coded  # type: ignore[method-assign]
            try:
                self.inner = rule(context)
            finally:
                context.report_error = report  # type: ignore[method-assign, assignment]
            super().__init__(context)

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


class LocatedValuesRule(ValuesOfCorrectTypeRule):
    """graphql-core's literal check, with the literal's place when a scalar refused it.

    A scalar that refuses a literal (strawberry's DateTime, Date, JSON) raises its own
    GraphQLError, which graphql-core reports as it is: no location, nothing saying which value.
    """

    _value: ValueNode | None = None

    def is_valid_value_node(self, node: ValueNode, input_type: Any) -> VisitorAction:
        self._value = node
        return super().is_valid_value_node(node, input_type)

    def report_error(self, error: GraphQLError) -> None:
        if not error.nodes and self._value is not None:
            message = f"Invalid value {print_ast(self._value)}: {error.message}"
            error = GraphQLError(message, self._value, original_error=error.original_error,
                                 extensions=error.extensions)  # fmt: skip
        super().report_error(error)


Rules = tuple[type[ASTValidationRule], ...]


def with_located_values(rules: Rules) -> Rules:
    """`rules` with graphql-core's literal check replaced by `LocatedValuesRule`."""
    return tuple(LocatedValuesRule if r is ValuesOfCorrectTypeRule else r for r in rules)
