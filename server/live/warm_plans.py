"""Have Neo4j plan the combined keyed queries of live rounds before the first change needs them.

A round (server.refresh.keyed) sends a few restricted definitions per query; the first time a
query text is seen Neo4j plans it (0.6-1.4 s under load with four definitions), and that first
change of each kind was the slowest sample of the live benchmark. Neo4j 5.26 caches a plan
under the query text, each parameter's type and, for lists, the size bucket (1, 2-10,
11-100, ...), and EXPLAIN or PROFILE of a text cache apart from the text itself
(tests/live/test_warm_plans.py shows all three). So the warm-up runs the very queries a round
would send, with a one-key list of the audience key's type (one changed profile: the common
case), and a key no profile holds, so they read next to nothing.

Which segments a change concerns, per dependency level, is predicted per kind of change: a
written attribute concerns the segments reading it, a new record or link those whose paths
cross its entity, and a segment of a later level is concerned when one it reads is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from grammar.neighbourhood import chains_of
from graph_schema import GraphSchema
from graph_schema.model import AttrType
from server.live.affected import attributes_read, reverse_query
from server.live.incremental import LiveSegments, bound_segment, dependency_levels, load_live
from server.refresh.definitions import DefinitionError
from server.refresh.graph import compiled
from server.refresh.keyed import compile_definition
from server.refresh.many_queries import chunked, combined_query
from server.refresh.records import Definition, MemberQuery, SegmentInfo
from server.refresh.refresh import RefreshEnv
from server.refresh.segments import load_definitions
from server.refresh.sources import CypherSource

log = logging.getLogger("segments.live")

# Bounds the warm-up of a large set of live segments (each text costs a planning on Neo4j).
MAX_TEXTS = 200

# A key of each type that no profile is expected to hold: the warm-up reads next to nothing.
_UNLIKELY: dict[AttrType, Any] = {
    AttrType.STRING: "\x00warm-up",
    AttrType.INTEGER: -(2**62),
    AttrType.FLOAT: -1.5e300,
    AttrType.BOOLEAN: False,
    AttrType.DATE: date(1, 1, 1),
    AttrType.DATETIME: datetime(1, 1, 2, tzinfo=UTC),
}


def concerned_sets(live: LiveSegments, schema: GraphSchema) -> list[list[str]]:
    """Per kind of change and dependency level, the live segments a round would hold."""
    reads: dict[str, set[tuple[str, str | None]]] = {}
    for sid, segment in live.segments.items():
        text = live.texts.get(sid)
        bound = bound_segment(text, schema, segment.timezone) if text and text.strip() else None
        if bound is None or segment.split is not None:
            reads[sid] = set()
            continue
        kinds: set[tuple[str, str | None]] = {
            (entity, attr) for entity, attrs in attributes_read(bound).items() for attr in attrs
        }
        kinds |= {(e.name, None) for chain in chains_of(bound) for e in chain.entities}
        reads[sid] = kinds
    levels = dependency_levels(live.order, live.deps)
    found: list[list[str]] = []
    for kind in sorted({k for ks in reads.values() for k in ks}, key=str):
        concerned: set[str] = set()
        for level in levels:
            now = [s for s in level if kind in reads[s]
                   or any(d in concerned for d in live.deps.get(s, ()))]  # fmt: skip
            concerned |= set(now)
            if now:
                found.append(sorted(now))
    return found


def round_queries(
    queries: dict[str, MemberQuery], sets: Iterable[list[str]], key_of: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Query text -> parameters, for every chunk the rounds of `sets` would send."""
    texts: dict[str, dict[str, Any]] = {}
    for ids in sets:
        held = [sid for sid in ids if sid in queries]
        for chunk in chunked([queries[sid] for sid in held]):
            wanted = [(queries[held[i]], [key_of[held[i]]]) for i in chunk]
            text, params = combined_query(wanted)
            texts.setdefault(text, params)
    return texts


def walk_queries(live: LiveSegments, schema: GraphSchema) -> dict[str, dict[str, Any]]:
    """Query text -> parameters of the reverse walks (server.live.affected) that find whom a
    changed related record concerns: one per relationship chain the live segments read."""
    texts: dict[str, dict[str, Any]] = {}
    for sid, segment in live.segments.items():
        text = live.texts.get(sid)
        bound = bound_segment(text, schema, segment.timezone) if text and text.strip() else None
        for chain in chains_of(bound) if bound is not None else ():
            key = _UNLIKELY.get(chain.entities[-1].key_attribute.type)
            if chain.steps and key is not None:
                texts.setdefault(reverse_query(chain), {"keys": [key]})
    return texts


async def warm_plans(env: RefreshEnv, schema: GraphSchema, live: LiveSegments | None = None) -> int:
    """Run once each combined query the live rounds would send now, and each reverse walk
    of their relationship chains; returns how many ran.
    A query that fails is logged and skipped (the round reports real failures)."""
    started = time.monotonic()
    live = live or await load_live(env)
    ids = sorted(live.segments)
    definitions = await load_definitions(env.graph, ids)
    now = datetime.now(UTC)
    queries, key_of = {}, {}
    for sid in ids:
        segment, definition = live.segments[sid], definitions.get(sid)
        query = _query(env, segment, definition, now) if definition else None
        key = _unlikely_key(schema, segment)
        if query is not None and key is not None:
            queries[sid], key_of[sid] = query, key
    texts = round_queries(queries, concerned_sets(live, schema), key_of)
    texts |= walk_queries(live, schema)
    ran = 0
    for text, params in list(texts.items())[:MAX_TEXTS]:
        try:
            await env.graph.read_with(compiled(text), params)
            ran += 1
        except Exception as exc:  # a refused definition: its round reports it
            log.warning("plan warm-up query failed", extra={"error": str(exc)})
    seconds = round(time.monotonic() - started, 3)
    log.info("live plans warmed", extra={"queries": ran, "of": len(texts), "seconds": seconds})
    return ran


def _query(
    env: RefreshEnv, segment: SegmentInfo, definition: Definition, now: datetime
) -> MemberQuery | None:
    try:
        query = compile_definition(env, segment, definition, now)
        source = env.source(segment, query)
    except DefinitionError:
        return None
    if not isinstance(source, CypherSource) or query.keys_cypher is None:
        return None
    return query


def _unlikely_key(schema: GraphSchema, segment: SegmentInfo) -> Any:
    entity = schema.entity(segment.audience)
    return None if entity is None else _UNLIKELY.get(entity.key_attribute.type)


def fingerprint(live: LiveSegments) -> tuple[tuple[str, int], ...]:
    """What the warm plans depend on: the live segments and their definition versions."""
    return tuple(sorted((sid, s.definition_version) for sid, s in live.segments.items()))


class PlanWarmer:
    """Warms the plans in the background when a worker starts and again whenever the live
    segments or their definitions change (a new version, one activated or paused), never
    blocking the caller and never failing it: a failure (Neo4j down) is logged."""

    def __init__(self, env: RefreshEnv, schema: GraphSchema) -> None:
        self.env, self.schema = env, schema
        self.warmed_for: tuple[tuple[str, int], ...] | None = None
        self.task: asyncio.Task[int] | None = None

    def start(self) -> None:
        """Load the live segments and warm their plans, in the background."""
        self.task = asyncio.ensure_future(self._warm(None))

    def note(self, live: LiveSegments) -> None:
        """Warm again, in the background, when `live` is not what was warmed last."""
        if fingerprint(live) != self.warmed_for:
            self.warmed_for = fingerprint(live)
            self.task = asyncio.ensure_future(self._warm(live))

    async def _warm(self, live: LiveSegments | None) -> int:
        try:
            live = live or await load_live(self.env)
            self.warmed_for = fingerprint(live)
            return await warm_plans(self.env, self.schema, live)
        except Exception as exc:
            log.warning("live plan warm-up skipped", extra={"error": str(exc)})
            return 0

    async def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
