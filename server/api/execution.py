"""The GraphQL execution context: strawberry's, made to free each request's objects when the
request ends rather than at the next full garbage collection.

graphql-core's executor keeps two of its own bound methods (`async_helpers`): a reference
cycle, so nothing reachable from the executor (the context, the HTTP request, every row read)
is freed by reference counting. Under load those objects outlive the young collections and
pile up in the oldest generation: at 200 clients a full collection found 1.4 million of them
and stopped the event loop for 2.5 s every 15 s or so, which was the whole p99. Once the
operation has its result no resolver runs any more, so the helpers are dropped then.
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult
from graphql.type.definition import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


def _spent(*_: Any) -> Any:
    raise RuntimeError("the operation is over: no more asynchronous work")


_SPENT = GraphQLResolveInfoHelpers(gather=_spent, track=_spent)


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, serially: bool | None = None) -> Any:
        try:
            result = super().execute_operation(serially)
        except BaseException:
            self.async_helpers = _SPENT
            raise
        if not self.is_awaitable(result):
            return self._released(result)

        async def finished() -> Any:
            try:
                done = await result
            except BaseException:
                self.async_helpers = _SPENT
                raise
            return self._released(done)

        return finished()

    def _released(self, result: Any) -> Any:
        # A complete result only: incremental delivery (@defer, @stream) goes on after it.
        if isinstance(result, ExecutionResult):
            self.async_helpers = _SPENT
        return result
