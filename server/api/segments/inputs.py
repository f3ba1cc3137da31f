"""GraphQL input objects of the segments domain, and their conversion to commands."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from server.api.segments import commands as c
from server.api.segments import enums  # noqa: F401  # registers the GraphQL enums first
from server.store.pages import SegmentOrder, SegmentOrderField, SortDirection
from server.store.records import ConsumerKind, ScheduleKind, SegmentType


@strawberry.input(description="A definition as text, or as the JSON tree a visual builder edits.")
class DefinitionInput:
    text: str | None = None
    json: JSON | None = None

    def to_source(self) -> c.DefinitionSource:
        # Both, or a JSON value that is not an object, go to the checks, which say what is wrong.
        return c.DefinitionSource(text=self.text, tree=self.json)


@strawberry.input
class ScheduleInput:
    kind: ScheduleKind
    cron: str | None = None

    def to_schedule(self) -> c.Schedule:
        return c.Schedule(kind=self.kind, cron=self.cron)


@strawberry.input
class CreateSegmentInput:
    name: str = strawberry.field(description="Unique; letters, digits and _; no spaces.")
    display_name: str | None = None
    description: str = ""
    type: SegmentType = SegmentType.DYNAMIC
    audience: str = strawberry.field(description="The profile entity to segment.")
    definition: DefinitionInput | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    timezone: str = "UTC"
    schedule: ScheduleInput | None = None
    activate: bool = True

    def to_command(self) -> c.CreateSegment:
        return c.CreateSegment(
            name=self.name, display_name=self.display_name, description=self.description,
            type=self.type, audience=self.audience,
            definition=self.definition.to_source() if self.definition else c.DefinitionSource(),
            tags=self.tags, timezone=self.timezone,
            schedule=self.schedule.to_schedule() if self.schedule else None,
            activate=self.activate,
        )  # fmt: skip


@strawberry.input(description="Fields left out stay as they are; a definition adds a version.")
class UpdateSegmentInput:
    id: strawberry.ID
    display_name: str | None = None
    description: str | None = None
    definition: DefinitionInput | None = None
    timezone: str | None = None
    schedule: ScheduleInput | None = None

    def to_command(self, segment_id: str) -> c.UpdateSegment:
        return c.UpdateSegment(
            id=segment_id, display_name=self.display_name, description=self.description,
            definition=self.definition.to_source() if self.definition else None,
            timezone=self.timezone,
            schedule=self.schedule.to_schedule() if self.schedule else None,
        )  # fmt: skip


@strawberry.input
class SegmentOrderInput:
    field: SegmentOrderField = SegmentOrderField.NAME
    direction: SortDirection = SortDirection.ASC

    def to_order(self) -> SegmentOrder:
        return SegmentOrder(self.field, self.direction)


@strawberry.input
class RegisterUsageInput:
    segment_id: strawberry.ID
    kind: ConsumerKind
    consumer: str = strawberry.field(description="The campaign's, journey's or export's name.")
    description: str = ""
