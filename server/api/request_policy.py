"""Every request's GraphQL policy in one strawberry extension: the token limit, the depth and
alias rules, the parse and validation caches, and the error policy (codes and masking).

These were five extensions (ErrorPolicy, MaxTokensLimiter, ParserCache, ValidationCache,
AddValidationRules). strawberry builds each extension per request and wraps each of its hooks
in a new context manager per request: five instances and five wraps were about a tenth of the
API's CPU on a list or member page. One extension with three hooks does the same steps in the
same order: the options and rules are set before parsing, the document is parsed and validated
through the same shared LRU caches, and errors are coded and masked when the operation ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import ASTValidationRule
from strawberry.extensions import ParserCache, ValidationCache

from server.api.errors import ErrorPolicy, with_located_values

CACHE_SIZE = 256
# strawberry keeps these caches at module level, one per size: shared by every request.
_parse = ParserCache(maxsize=CACHE_SIZE).cached_parse_document
_validate = ValidationCache(maxsize=CACHE_SIZE).cached_validate_document


class RequestPolicy(ErrorPolicy):
    def __init__(self, max_tokens: int, rules: Iterable[type[ASTValidationRule]]) -> None:
        super().__init__(max_tokens)
        self.rules = tuple(rules)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = with_located_values(context.validation_rules) + self.rules
        yield from super().on_operation()

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        context.pre_execution_errors = _validate(
            context.schema._schema, context.graphql_document, context.validation_rules
        )
        yield
