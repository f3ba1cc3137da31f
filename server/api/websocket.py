"""graphql-transport-ws with our error codes: strawberry refuses a subscription past the
per-connection limit with a bare message; clients match codes, never message text."""

from __future__ import annotations

from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message

from server.api.errors import ErrorCode

LIMIT_MESSAGE = "Subscription limit reached"  # strawberry's text for the refusal


class CodedTransportWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    async def send_message(self, message: Message) -> None:
        if message["type"] == "error":
            for error in message["payload"]:
                if error.get("message") == LIMIT_MESSAGE and "extensions" not in error:
                    error["extensions"] = {"code": str(ErrorCode.TOO_MANY_SUBSCRIPTIONS)}
        await super().send_message(message)
