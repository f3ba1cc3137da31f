"""Constraints and indexes the store relies on, created at startup (idempotent)."""

from __future__ import annotations

from typing import LiteralString

from server.store.db import Db

STATEMENTS: tuple[LiteralString, ...] = (
    "CREATE CONSTRAINT _segment_id IF NOT EXISTS FOR (s:_Segment) REQUIRE s.id IS UNIQUE",
    "CREATE CONSTRAINT _segment_name IF NOT EXISTS FOR (s:_Segment) REQUIRE s.name IS UNIQUE",
    "CREATE CONSTRAINT _definition_version IF NOT EXISTS "
    "FOR (d:_SegmentDefinition) REQUIRE (d.segmentId, d.version) IS UNIQUE",
    "CREATE CONSTRAINT _usage_id IF NOT EXISTS FOR (u:_SegmentUsage) REQUIRE u.id IS UNIQUE",
    "CREATE CONSTRAINT _api_key_id IF NOT EXISTS FOR (k:_ApiKey) REQUIRE k.id IS UNIQUE",
    "CREATE CONSTRAINT _export_id IF NOT EXISTS FOR (e:_Export) REQUIRE e.id IS UNIQUE",
    "CREATE CONSTRAINT _export_name IF NOT EXISTS FOR (e:_Export) REQUIRE e.name IS UNIQUE",
    "CREATE CONSTRAINT _export_run_id IF NOT EXISTS FOR (r:_ExportRun) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX _export_run_export IF NOT EXISTS FOR (r:_ExportRun) ON (r.exportId, r.seq)",
    "CREATE INDEX _export_run_status IF NOT EXISTS FOR (r:_ExportRun) ON (r.status)",
    "CREATE INDEX _export_trigger IF NOT EXISTS FOR (e:_Export) ON (e.triggerKind)",
    # Range indexes serve the list's filters and keyset ordering on each sortable column.
    "CREATE INDEX _segment_display_name IF NOT EXISTS FOR (s:_Segment) ON (s.displayName)",
    "CREATE INDEX _segment_created_at IF NOT EXISTS FOR (s:_Segment) ON (s.createdAt)",
    "CREATE INDEX _segment_updated_at IF NOT EXISTS FOR (s:_Segment) ON (s.updatedAt)",
    "CREATE INDEX _segment_refreshed_at IF NOT EXISTS FOR (s:_Segment) ON (s.lastRefreshedAt)",
    "CREATE INDEX _segment_type IF NOT EXISTS FOR (s:_Segment) ON (s.type)",
    "CREATE INDEX _segment_state IF NOT EXISTS FOR (s:_Segment) ON (s.state)",
    "CREATE INDEX _segment_status IF NOT EXISTS FOR (s:_Segment) ON (s.status)",
    "CREATE INDEX _segment_audience IF NOT EXISTS FOR (s:_Segment) ON (s.audience)",
    "CREATE INDEX _usage_segment IF NOT EXISTS FOR (u:_SegmentUsage) ON (u.segmentId)",
    "CREATE CONSTRAINT _score_model_id IF NOT EXISTS FOR (m:_ScoreModel) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT _score_model_name IF NOT EXISTS "
    "FOR (m:_ScoreModel) REQUIRE m.name IS UNIQUE",
    "CREATE INDEX _score_model_version IF NOT EXISTS "
    "FOR (v:_ScoreModelVersion) ON (v.modelId, v.version)",
    "CREATE INDEX _score_history IF NOT EXISTS FOR (h:_ScoreHistory) ON (h.modelId, h.key)",
    "CREATE INDEX _score_run IF NOT EXISTS FOR (r:_ScoreRun) ON (r.modelId, r.at)",
    "CREATE CONSTRAINT _lead_model_id IF NOT EXISTS FOR (m:_LeadModel) REQUIRE m.id IS UNIQUE",
    "CREATE CONSTRAINT _lead_model_name IF NOT EXISTS FOR (m:_LeadModel) REQUIRE m.name IS UNIQUE",
    "CREATE CONSTRAINT _lead_model_version IF NOT EXISTS "
    "FOR (v:_LeadModelVersion) REQUIRE v.id IS UNIQUE",
    # Member pages walk one segment's memberships in key order straight from this index.
    "CREATE INDEX _member_segment_key IF NOT EXISTS FOR ()-[m:_MEMBER]-() ON (m.segmentId, m.key)",
)


async def ensure_schema(db: Db) -> None:
    """Create every constraint and index the store needs; safe to run on each start."""
    for statement in STATEMENTS:
        async with db.driver.session(database=db.database) as session:
            await (await session.run(statement)).consume()
