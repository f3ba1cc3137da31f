"""GraphQL types of `membership(segment, profile)`."""

from __future__ import annotations

from datetime import datetime

import strawberry

from server.api.segments.membership import Clause, MembershipReport
from server.api.segments.types import Segment


@strawberry.type(description="One clause of the definition for one profile.")
class MembershipClause:
    index: int
    parent: int | None = strawberry.field(description="Index of the enclosing clause.")
    depth: int
    text: str = strawberry.field(description="The clause, or and / or / not / a set operator.")
    holds: bool | None = strawberry.field(description="Null when a missing value decided it.")
    detail: str = strawberry.field(description="What the clause saw: a value or an aggregate.")

    @staticmethod
    def of(c: Clause) -> MembershipClause:
        return MembershipClause(
            index=c.index, parent=c.parent, depth=c.depth, text=c.text, holds=c.truth,
            detail=c.detail,
        )  # fmt: skip


@strawberry.type(description="Is this profile in the segment, and why (or why not).")
class Membership:
    segment: Segment
    key: str
    found: bool = strawberry.field(description="The audience has a profile with this key.")
    member: bool = strawberry.field(description="In the active (last refreshed) membership.")
    matches_now: bool | None = strawberry.field(
        description="The definition evaluated at `evaluatedAt`; null for static segments "
        "and drafts. Differs from `member` when data changed since the last refresh."
    )
    evaluated_at: datetime | None
    clauses: list[MembershipClause] = strawberry.field(
        description="The clause tree, depth first (rebuild it with `parent`)."
    )

    @staticmethod
    def of(segment: Segment, r: MembershipReport) -> Membership:
        return Membership(
            segment=segment, key=r.key, found=r.found, member=r.member, matches_now=r.matches,
            evaluated_at=r.evaluated_at, clauses=[MembershipClause.of(c) for c in r.clauses],
        )  # fmt: skip
