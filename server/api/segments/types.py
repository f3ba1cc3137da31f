"""GraphQL object types of the segments domain."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from server.access import Permission, mask_value
from server.api.common import Span, asks, connection, field
from server.api.context import Info
from server.api.segments import history, reading
from server.api.segments.definition import lost_inputs
from server.api.segments.enums import DependentKind
from server.api.segments.expansion import get_expansion
from server.api.segments.expansion_types import SegmentExpansion
from server.api.segments.member_prefetch import prefetched
from server.api.segments.run_types import SegmentGrowth, SegmentRun, SegmentTrendPoint
from server.api.segments.split_types import SegmentSplit
from server.api.segments.splits import get_split
from server.store.records import (
    ConsumerKind,
    DefinitionRecord,
    Dependent,
    Diagnostic,
    Member,
    Page,
    RefreshStatus,
    ScheduleKind,
    SegmentRecord,
    SegmentState,
    SegmentType,
    UsageRecord,
)

if TYPE_CHECKING:
    from server.api.exports.types import Export


@strawberry.type
class Schedule:
    kind: ScheduleKind
    cron: str | None


@strawberry.type(description="A compile problem of a saved definition.")
class DefinitionDiagnostic:
    code: str = strawberry.field(description="Stable code from the segment language.")
    message: str
    span: Span | None
    end: Span | None

    @staticmethod
    def of(d: Diagnostic) -> DefinitionDiagnostic:
        start = Span(line=d.line, column=d.column) if d.line and d.column else None
        end = Span(line=d.end_line, column=d.end_column) if d.end_line and d.end_column else None
        return DefinitionDiagnostic(code=d.code, message=d.message, span=start, end=end)


@strawberry.type(description="One version of a segment's definition.")
class SegmentDefinition:
    version: int
    text: str
    json: JSON | None
    valid: bool
    diagnostics: list[DefinitionDiagnostic]
    references: list[str] = strawberry.field(description="Names of the segments it reads.")
    author: str
    created_at: datetime

    @staticmethod
    def of(d: DefinitionRecord) -> SegmentDefinition:
        return SegmentDefinition(
            version=d.version, text=d.text, json=json.loads(d.json) if d.json else None,
            valid=d.valid, diagnostics=[DefinitionDiagnostic.of(x) for x in d.diagnostics],
            references=list(d.references), author=d.author, created_at=d.created_at,
        )  # fmt: skip


@strawberry.type
class SegmentDefinitionEdge:
    cursor: str
    node: SegmentDefinition


@strawberry.type
class SegmentDefinitionConnection:
    edges: list[SegmentDefinitionEdge]
    page_info: relay.PageInfo
    total_count: int


@strawberry.type(description="A profile in the segment's active membership.")
class SegmentMember:
    key: str
    since_version: int
    properties: JSON

    @staticmethod
    def of(m: Member, columns: list[str], masked: frozenset[str] = frozenset()) -> SegmentMember:
        shown = {
            c: mask_value(m.properties.get(c)) if c in masked else m.properties.get(c)
            for c in columns
        }
        return SegmentMember(key=str(m.key), since_version=m.since, properties=cast(JSON, shown))


@strawberry.type
class SegmentMemberEdge:
    cursor: str
    node: SegmentMember


@strawberry.type
class SegmentMemberConnection:
    edges: list[SegmentMemberEdge]
    page_info: relay.PageInfo
    total_count: int


@strawberry.type(description="Something that would lose an input if the segment went away.")
class SegmentDependent:
    kind: DependentKind
    id: strawberry.ID
    name: str

    @staticmethod
    def of(d: Dependent) -> SegmentDependent:
        gid = str(relay.GlobalID(d.node, d.id))
        return SegmentDependent(kind=DependentKind(d.kind), id=strawberry.ID(gid), name=d.name)


def usage_gid(usage_id: str) -> str:
    return str(relay.GlobalID("SegmentUsage", usage_id))


@strawberry.type(description="An external consumer registered through the API.")
class SegmentUsage:
    id: strawberry.ID
    kind: ConsumerKind
    consumer: str
    description: str
    created_at: datetime
    created_by: str

    @staticmethod
    def of(u: UsageRecord) -> SegmentUsage:
        return SegmentUsage(
            id=strawberry.ID(usage_gid(u.id)), kind=u.kind, consumer=u.consumer,
            description=u.description, created_at=u.created_at, created_by=u.created_by,
        )  # fmt: skip


@strawberry.type
class Segment(relay.Node):
    id: relay.NodeID[str]
    name: str
    display_name: str
    description: str
    type: SegmentType
    audience: str = strawberry.field(description="The profile entity it selects.")
    state: SegmentState
    draft: bool = strawberry.field(description="A dynamic segment whose definition is invalid.")
    status: RefreshStatus
    status_detail: str | None = strawberry.field(description="Error details of the last run.")
    last_refreshed_at: datetime | None
    tags: list[str]
    timezone: str
    schedule: Schedule
    membership_version: int = strawberry.field(description="Active membership version.")
    lost_inputs: list[str] = strawberry.field(description="Deleted segments it read.")
    created_at: datetime
    updated_at: datetime
    created_by: str
    record: strawberry.Private[SegmentRecord]

    @staticmethod
    def of(r: SegmentRecord) -> Segment:
        return Segment(
            id=r.id, name=r.name, display_name=r.display_name, description=r.description,
            type=r.type, audience=r.audience, state=r.state, draft=r.draft, status=r.status,
            status_detail=r.status_detail, last_refreshed_at=r.last_refreshed_at,
            tags=list(r.tags), timezone=r.timezone,
            schedule=Schedule(kind=r.schedule_kind, cron=r.schedule_cron),
            membership_version=r.active_version, lost_inputs=list(r.lost_inputs),
            created_at=r.created_at, updated_at=r.updated_at, created_by=r.created_by, record=r,
        )  # fmt: skip

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Segment | None]:
        found = await info.context.segments.load_many(list(node_ids))
        return [Segment.of(r) if r else None for r in found]

    @field("Members of the active version.", graphql_type=int, requires=None)
    def member_count(self, info: Info) -> int | Awaitable[int]:
        # No query (and no task) per row of a list: the count every switch keeps, or none
        # before the first switch; a coroutine only for segments written before counts were.
        if self.record.member_count is not None:
            return self.record.member_count
        if self.record.active_version == 0:
            return 0
        return reading.count_members(info.context.deps, self.id)

    @field(
        "Members of the active version in key order; the first page (100) is the preview. "
        "PII columns are masked unless the caller holds READ_PII.",
        requires=Permission.READ_MEMBERS,
    )
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        columns: list[str] | None = None,
    ) -> SegmentMemberConnection:
        deps = info.context.deps
        names = reading.member_columns(deps, self.audience, columns)
        masked = reading.masked_columns(deps, self.audience, names)
        asked = asks(info, info.field_name, "edges", "node", "properties")
        shown = names if asked else []  # neither read nor built when nobody asked
        page = prefetched(info, self.id, first, after, shown)
        if page is None:
            page = await reading.list_members(deps, self.id, first, after, shown)
        return member_connection(page, after, shown, masked)

    @field("The current definition.")
    async def definition(self, info: Info) -> SegmentDefinition | None:
        found = await reading.current_definition(info.context.deps, self.record)
        if found is None:
            return None
        if self.record.lost_inputs:  # deleted since it was saved: it no longer compiles
            lost = lost_inputs(found.text, self.record.lost_inputs)
            found = replace(found, valid=False, diagnostics=(*found.diagnostics, *lost))
        return SegmentDefinition.of(found)

    @field("Definition history, newest first.")
    async def definition_versions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> SegmentDefinitionConnection:
        page = await reading.list_definitions(info.context.deps, self.id, first, after)
        return definition_connection(page, after)

    @field("Other segments and registered consumers that use it.")
    async def dependents(self, info: Info) -> list[SegmentDependent]:
        found = await reading.list_dependents(info.context.deps, self.id)
        return [SegmentDependent.of(d) for d in found]

    @field("Refresh runs, newest first.")
    async def runs(self, info: Info, first: int = 20) -> list[SegmentRun]:
        found = await history.list_runs(info.context.deps, self.id, first)
        return [SegmentRun.of(r) for r in found]

    @field("Member count per successful refresh in [from, to], oldest first.")
    async def trend(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> list[SegmentTrendPoint]:
        points = await history.trend(info.context.deps, self.id, from_, to)
        return [SegmentTrendPoint.of(p) for p in points]

    @field("Last week's growth in member count; null before the first refresh.")
    async def weekly_growth(self, info: Info) -> SegmentGrowth | None:
        found = await history.weekly_growth(info.context.deps, self.id)
        return SegmentGrowth.of(found) if found else None

    @field("Settings and last run of an expansion (similar customers); null for others.")
    async def expansion(self, info: Info) -> SegmentExpansion | None:
        if self.record.type is not SegmentType.EXPANSION:
            return None
        found = await get_expansion(info.context.deps, self.record)
        return SegmentExpansion.of(found, self.record) if found else None

    @field("The split this segment heads or is a group of; null when none.")
    async def split(self, info: Info) -> SegmentSplit | None:
        found = await get_split(info.context.deps, self.record)
        return SegmentSplit.of(found) if found else None

    @field("External consumers registered through the API.")
    async def usages(self, info: Info) -> list[SegmentUsage]:
        found = await reading.list_usages(info.context.deps, self.id)
        return [SegmentUsage.of(u) for u in found]

    @field("The exports that carry it (manage exports).")
    async def exports(
        self, info: Info
    ) -> list[Annotated[Export, strawberry.lazy("server.api.exports.types")]]:
        # Imported here: the exports types import this module.
        from server.api.exports import domain as exports
        from server.api.exports.types import Export

        return [Export.of(e) for e in await exports.of_segment(info.context.deps, self.id)]


@strawberry.type
class SegmentEdge:
    cursor: str
    node: Segment


@strawberry.type
class SegmentConnection:
    edges: list[SegmentEdge]
    page_info: relay.PageInfo
    total_count: int


def segment_connection(page: Page[SegmentRecord], after: str | None) -> SegmentConnection:
    return connection(page, after, Segment.of, SegmentEdge, SegmentConnection)


def member_connection(
    page: Page[Member], after: str | None, columns: list[str], masked: frozenset[str]
) -> SegmentMemberConnection:
    def node(m: Member) -> SegmentMember:
        return SegmentMember.of(m, columns, masked)

    return connection(page, after, node, SegmentMemberEdge, SegmentMemberConnection)


def definition_connection(
    page: Page[DefinitionRecord], after: str | None
) -> SegmentDefinitionConnection:
    return connection(
        page, after, SegmentDefinition.of, SegmentDefinitionEdge, SegmentDefinitionConnection
    )
