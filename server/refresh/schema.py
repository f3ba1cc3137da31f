"""Indexes and constraints the refresh engine relies on, created at worker start (idempotent)."""

from __future__ import annotations

from typing import LiteralString

from server.refresh.graph import Graph

STATEMENTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT _segment_id IF NOT EXISTS FOR (s:_Segment) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT _segment_run_id IF NOT EXISTS FOR (r:_SegmentRun) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX _segment_run_segment IF NOT EXISTS FOR (r:_SegmentRun) ON (r.segmentId)",
    "CREATE INDEX _segment_status IF NOT EXISTS FOR (s:_Segment) ON (s.status)",
    # Member pages, diffs and "is this key a member" walk (segmentId, key) straight from here;
    # the same statement as the API store's, so whichever runs first creates it.
    "CREATE INDEX _member_segment_key IF NOT EXISTS FOR ()-[m:_MEMBER]-() ON (m.segmentId, m.key)",
    # Who entered / left in version V, leftover cleaning and garbage collection.
    "CREATE INDEX _member_segment_since IF NOT EXISTS "
    "FOR ()-[m:_MEMBER]-() ON (m.segmentId, m.since)",
    "CREATE INDEX _member_segment_until IF NOT EXISTS "
    "FOR ()-[m:_MEMBER]-() ON (m.segmentId, m.until)",
)


async def ensure_refresh_schema(graph: Graph) -> None:
    """Create the indexes and constraints above, then wait until they are online."""
    for statement in STATEMENTS:
        await graph.auto(statement)
    await graph.auto("CALL db.awaitIndexes(60)")
