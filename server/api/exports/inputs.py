"""GraphQL input objects of the exports domain, and their conversion to commands."""

from __future__ import annotations

import strawberry

from server.api.common import decode_gid
from server.api.exports import enums  # noqa: F401  # registers the GraphQL enums first
from server.api.exports.commands import ExportChanges, ExportSpec
from server.exports.records import Destination, DestinationKind, Trigger, TriggerKind


@strawberry.input(description="An HTTP header sent with every request (HTTP_JSONL).")
class HeaderInput:
    name: str
    value: str


@strawberry.input
class DestinationInput:
    kind: DestinationKind
    path: str | None = strawberry.field(
        default=None, description="Folder kinds: a folder relative to the export root."
    )
    url: str | None = strawberry.field(default=None, description="HTTP_JSONL: http(s) URL.")
    headers: list[HeaderInput] = strawberry.field(default_factory=list)

    def to_destination(self) -> Destination:
        headers = tuple((h.name, h.value) for h in self.headers)
        return Destination(kind=self.kind, path=self.path, url=self.url, headers=headers)


@strawberry.input
class TriggerInput:
    kind: TriggerKind
    cron: str | None = strawberry.field(default=None, description="SCHEDULE: 5-field cron.")
    timezone: str = "UTC"

    def to_trigger(self) -> Trigger:
        return Trigger(kind=self.kind, cron=self.cron, timezone=self.timezone)


def segment_ids(ids: list[strawberry.ID]) -> tuple[str, ...]:
    # An id that is not a segment's becomes "" and is reported as NOT_FOUND at its index.
    return tuple(decode_gid(i, "Segment") or "" for i in ids)


@strawberry.input
class CreateExportInput:
    name: str = strawberry.field(description="Unique; letters, digits and _; no spaces.")
    description: str = ""
    segment_ids: list[strawberry.ID] = strawberry.field(
        description="The segments it carries (one audience), in order."
    )
    columns: list[str] | None = strawberry.field(
        default=None, description="Profile attributes after the key; all when null or empty."
    )
    destination: DestinationInput
    trigger: TriggerInput | None = None
    active: bool = True

    def to_spec(self) -> ExportSpec:
        return ExportSpec(
            name=self.name, description=self.description,
            segment_ids=segment_ids(self.segment_ids),
            columns=tuple(self.columns) if self.columns else None,
            destination=self.destination.to_destination(),
            trigger=self.trigger.to_trigger() if self.trigger else Trigger(kind=TriggerKind.MANUAL),
            active=self.active,
        )  # fmt: skip


@strawberry.input(description="Fields left out (or null) stay as they are.")
class UpdateExportInput:
    id: strawberry.ID
    name: str | None = None
    description: str | None = None
    segment_ids: list[strawberry.ID] | None = None
    columns: list[str] | None = strawberry.field(
        default=None, description="An empty list asks for every attribute again."
    )
    destination: DestinationInput | None = None
    trigger: TriggerInput | None = None
    active: bool | None = None

    def to_changes(self, export_id: str) -> ExportChanges:
        return ExportChanges(
            id=export_id, name=self.name, description=self.description,
            segment_ids=segment_ids(self.segment_ids) if self.segment_ids is not None else None,
            columns=tuple(self.columns) if self.columns is not None else None,
            destination=self.destination.to_destination() if self.destination else None,
            trigger=self.trigger.to_trigger() if self.trigger else None, active=self.active,
        )  # fmt: skip
