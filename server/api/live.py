"""Live data over the API: `ingestRecords` (GraphQL), `POST /ingest` (JSON lines), and the
`membershipChanges` subscription (who entered and who left, as incremental updates land)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import datetime
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.scalars import JSON

from server.access import Permission
from server.api.auth import (
    Unauthenticated,
    forbidden_response,
    identify_headers,
    unauthenticated_response,
)
from server.api.common import (
    UserError,
    decode_gid,
    field,
    mutation,
    segment_gid,
    subscription,
    user_errors,
)
from server.api.context import Info
from server.api.errors import Problem, UserErrorCode
from server.live.incremental import MEMBERSHIP_CHANNEL
from server.live.ingest import Ingested, ingest
from server.live.records import RecordError
from server.live.validate import MAX_BATCH
from server.live.webhooks import (
    InvalidUrl,
    Webhook,
    check_url,
    create_webhook,
    delete_webhook,
    list_webhooks,
)
from server.outgoing import RefusedUrl, check_outgoing
from server.settings import Settings

POLL_S = 1.0


@strawberry.type(description="Why one record of a batch was refused.")
class IngestError:
    index: int = strawberry.field(description="The record's position in the batch (from 0).")
    field: list[str] = strawberry.field(description="Path inside the record.")
    code: str
    message: str

    @staticmethod
    def of(e: RecordError) -> IngestError:
        return IngestError(index=e.index, field=list(e.field), code=e.code, message=e.message)


@strawberry.type
class IngestPayload:
    accepted: int = strawberry.field(description="Records written (committed) by this call.")
    changed: int = strawberry.field(description="Records queued for live segment updates.")
    errors: list[IngestError]

    @staticmethod
    def of(done: Ingested) -> IngestPayload:
        errors = [IngestError.of(e) for e in done.errors]
        return IngestPayload(accepted=done.accepted, changed=done.changed, errors=errors)


@strawberry.type(description="Profiles that entered or left a segment in one update.")
class MembershipChange:
    segment_id: strawberry.ID
    version: int
    at: datetime
    entered: list[str]
    exited: list[str]


@strawberry.type(description="A URL told who entered and who left a segment.")
class SegmentWebhook:
    id: strawberry.ID
    segment_id: strawberry.ID
    url: str
    created_at: datetime
    created_by: str

    @staticmethod
    def of(w: Webhook) -> SegmentWebhook:
        return SegmentWebhook(
            id=strawberry.ID(w.id), segment_id=strawberry.ID(segment_gid(w.segment_id)),
            url=w.url, created_at=w.created_at, created_by=w.created_by,
        )  # fmt: skip


@strawberry.type
class CreateWebhookPayload:
    webhook: SegmentWebhook | None
    secret: str | None = strawberry.field(
        description="Signs each delivery (X-Segments-Signature: sha256=HMAC of the body); "
        "shown only here."
    )
    user_errors: list[UserError]


@strawberry.type
class DeleteWebhookPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class LiveQueries:
    @field("The webhooks told about a segment's membership changes.")
    async def segment_webhooks(self, info: Info, segment: strawberry.ID) -> list[SegmentWebhook]:
        segment_id = decode_gid(segment, "Segment")
        if segment_id is None:
            return []
        return [SegmentWebhook.of(w) for w in await list_webhooks(info.context.deps.db, segment_id)]


@strawberry.type
class LiveMutations:
    @mutation("Tell a URL who enters and leaves a segment (signed, retried, at least once).")
    async def create_segment_webhook(
        self, info: Info, segment: strawberry.ID, url: str, secret: str | None = None
    ) -> CreateWebhookPayload:
        deps = info.context.deps
        segment_id = decode_gid(segment, "Segment")
        try:
            checked = check_url(url)
            await check_outgoing(checked, deps.outgoing, unresolved_ok=True)
        except (InvalidUrl, RefusedUrl) as exc:
            code = UserErrorCode.URL_NOT_ALLOWED if isinstance(exc, RefusedUrl) else (
                UserErrorCode.INVALID_VALUE)  # fmt: skip
            problem = Problem(code, ("url",), str(exc))
            return CreateWebhookPayload(webhook=None, secret=None,
                                        user_errors=user_errors([problem]))  # fmt: skip
        made = None
        if segment_id is not None:
            made = await create_webhook(deps.db, segment_id, checked, secret, deps.actor,
                                        deps.clock())  # fmt: skip
        if made is None:
            problem = Problem(UserErrorCode.NOT_FOUND, ("segment",), "no such segment")
            return CreateWebhookPayload(webhook=None, secret=None,
                                        user_errors=user_errors([problem]))  # fmt: skip
        hook, key = made
        return CreateWebhookPayload(webhook=SegmentWebhook.of(hook), secret=key, user_errors=[])

    @mutation("Stop telling a URL about a segment.")
    async def delete_segment_webhook(self, info: Info, id: strawberry.ID) -> DeleteWebhookPayload:
        if await delete_webhook(info.context.deps.db, str(id)):
            return DeleteWebhookPayload(deleted_id=id, user_errors=[])
        problem = Problem(UserErrorCode.NOT_FOUND, ("id",), "no such webhook")
        return DeleteWebhookPayload(deleted_id=None, user_errors=user_errors([problem]))

    @mutation(
        "Upsert profiles and related records, or append interactions (identify / track); "
        "valid records are committed together, the others come back with their errors.",
        requires=Permission.WRITE_DATA,
    )
    async def ingest_records(self, info: Info, records: list[JSON]) -> IngestPayload:
        deps = info.context.deps
        return IngestPayload.of(await ingest(deps.db, deps.redis, deps.schema, records))


@strawberry.type
class LiveSubscriptions:
    # who entered and who left are members: the grant of member pages, not of segment lists
    @subscription(
        "Who entered and who left, per segment, as live updates land.",
        requires=Permission.READ_MEMBERS,
    )
    async def membership_changes(
        self, info: Info, segments: list[strawberry.ID] | None = None
    ) -> AsyncGenerator[MembershipChange, None]:
        wanted = None if segments is None else {decode_gid(s, "Segment") for s in segments}
        pubsub = info.context.deps.redis.pubsub()
        await pubsub.subscribe(MEMBERSHIP_CHANNEL)
        try:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
                if message is None or message.get("type") != "message":
                    continue
                event = json.loads(message["data"])
                if wanted is None or event["segmentId"] in wanted:
                    yield MembershipChange(
                        segment_id=strawberry.ID(segment_gid(event["segmentId"])),
                        version=event["version"], at=datetime.fromisoformat(event["at"]),
                        entered=[str(k) for k in event["entered"]],
                        exited=[str(k) for k in event["exited"]],
                    )  # fmt: skip
        finally:
            await pubsub.unsubscribe(MEMBERSHIP_CHANNEL)
            await pubsub.aclose()  # type: ignore[no-untyped-call]


def ingest_endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """`POST /ingest`: one JSON record a line (identify / track / upsert), the same rules and
    answer as `ingestRecords`; a line that is not JSON is refused with its index."""

    async def endpoint(request: Request) -> Response:
        state = request.state
        try:
            principal = await identify_headers(state.db, settings, request.headers)
        except Unauthenticated as exc:
            return unauthenticated_response(exc)
        if not principal.can(Permission.WRITE_DATA):
            return forbidden_response(f"your role lacks the {Permission.WRITE_DATA} permission")
        records: list[Any] = []
        bad: list[RecordError] = []
        lines = (await request.body()).decode("utf-8", errors="replace").splitlines()
        for line in (line for line in lines if line.strip()):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                bad.append(RecordError(len(records), (), "INVALID_JSON", str(exc)))
                records.append(None)  # keeps indexes aligned with the lines
        if len(records) > MAX_BATCH:
            body = {"error": "LIMIT_EXCEEDED", "message": f"at most {MAX_BATCH} lines"}
            return JSONResponse(body, status_code=413)
        good = [r for i, r in enumerate(records) if i not in {b.index for b in bad}]
        positions = [i for i in range(len(records)) if i not in {b.index for b in bad}]
        done = await ingest(state.db, state.redis, state.graph, good)
        errors = [*bad, *(_at(e, positions) for e in done.errors)]
        payload = {
            "accepted": done.accepted,
            "changed": done.changed,
            "errors": [
                {"index": e.index, "field": list(e.field), "code": e.code, "message": e.message}
                for e in sorted(errors, key=lambda e: e.index)
            ],
        }
        return JSONResponse(payload, status_code=200 if not errors else 207)

    return endpoint


def _at(error: RecordError, positions: list[int]) -> RecordError:
    """An error of the batch of parsed lines, at its line's index."""
    return RecordError(positions[error.index], error.field, error.code, error.message)
