"""GraphQL types and inputs of splits (see server/api/segments/splits.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from server.api.common import UserError, user_errors
from server.api.segments.commands import Outcome
from server.api.segments.splits import GroupSpec, SplitView
from server.splits.allocation import percent_of
from server.store.records import SegmentRecord

if TYPE_CHECKING:
    from server.api.segments.types import Segment

LazySegment = Annotated["Segment", strawberry.lazy("server.api.segments.types")]


@strawberry.type(description="Buckets [start, end) of the 10,000 a split hashes profiles to.")
class BucketRange:
    start: int
    end: int


@strawberry.type(description="One group of a split: a segment of its own.")
class SplitGroup:
    segment: LazySegment
    percent: float = strawberry.field(description="Share of the parent's members (its buckets).")
    buckets: list[BucketRange]


@strawberry.type(
    description="A segment split into stable random groups: a profile's group depends only on "
    "the seed and its key (bucket = first 8 bytes of blake2b(seed + NUL + key) mod 10,000)."
)
class SegmentSplit:
    parent: LazySegment
    seed: str
    groups: list[SplitGroup] = strawberry.field(description="In the order they were created.")
    unassigned_percent: float = strawberry.field(description="Members in no group.")

    @staticmethod
    def of(view: SplitView) -> SegmentSplit:
        from server.api.segments.types import Segment  # types.py imports this module

        groups = [_group(Segment.of(g), g) for g in view.groups]
        taken = sum(g.percent for g in groups)
        return SegmentSplit(
            parent=Segment.of(view.parent), seed=view.seed, groups=groups,
            unassigned_percent=round(100 - taken, 2),
        )  # fmt: skip


def _group(segment: Segment, record: SegmentRecord) -> SplitGroup:
    ranges = record.split_group.ranges if record.split_group else ()
    buckets = [BucketRange(start=s, end=e) for s, e in ranges]
    return SplitGroup(segment=segment, percent=percent_of(ranges), buckets=buckets)


@strawberry.type
class SplitPayload:
    split: SegmentSplit | None
    groups: list[LazySegment] = strawberry.field(description="The split's groups, in order.")
    user_errors: list[UserError]

    @staticmethod
    def of(outcome: Outcome[SplitView]) -> SplitPayload:
        split = SegmentSplit.of(outcome.value) if outcome.value else None
        groups = [g.segment for g in split.groups] if split else []
        return SplitPayload(split=split, groups=groups, user_errors=user_errors(outcome.problems))


@strawberry.input
class SplitGroupInput:
    name: str = strawberry.field(description="The group segment's name (unique).")
    display_name: str | None = None
    percent: float = strawberry.field(description="0 to 100, at most one decimal.")

    def to_spec(self) -> GroupSpec:
        return GroupSpec(name=self.name, display_name=self.display_name, percent=self.percent)


@strawberry.input
class SplitSegmentInput:
    segment: strawberry.ID = strawberry.field(description="The segment to split (the parent).")
    seed: str | None = strawberry.field(default=None, description="Generated when left out.")
    groups: list[SplitGroupInput]


@strawberry.input
class UpdateSplitInput:
    segment: strawberry.ID = strawberry.field(description="The parent or any of its groups.")
    groups: list[SplitGroupInput] = strawberry.field(
        description="Groups to resize (by name; others keep theirs) or to add (new names)."
    )
