"""Similar customers: create an EXPANSION segment from a source segment, read its settings and
the quality of its last run. Inputs are checked here; the model runs in the refresh engine
(server.expansion), after the source in dependency order.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments import validation as v
from server.api.segments.commands import Outcome
from server.api.segments.domain import get, name_taken, not_found
from server.expansion import graph as expansion_graph
from server.expansion.features import choose, expansion_features
from server.refresh.records import ExpansionSpec
from server.store import segments as store
from server.store.expansions import create_expansion as store_expansion
from server.store.records import ScheduleKind, SegmentRecord, SegmentState, SegmentType
from server.store.segments import NameTaken, NewDefinition, NewSegment

Code = UserErrorCode
DEFAULT_PERCENT = 20.0  # of the population, as the reference product suggests
INPUT = ("input",)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpansionRequest:
    name: str
    display_name: str | None
    source_id: str | None  # None: the global id did not decode
    population_id: str | None
    population_given: bool
    features: Sequence[str]
    output_percent: float | None
    include_source: bool


@dataclass(frozen=True, slots=True)
class ExpansionView:
    spec: ExpansionSpec
    source: SegmentRecord | None
    population: SegmentRecord | None
    summary: dict[str, Any] | None  # of the last run; None before it


async def create_expansion(deps: Deps, r: ExpansionRequest) -> Outcome[SegmentRecord]:
    """Create an expansion segment (refreshed like a dynamic one, after its source). Refused
    for a bad or taken name, a missing or draft source, a missing population or one of another
    audience, a percent outside (0, 100], and unknown features; nothing is written then."""
    problems = v.check_name(r.name, (*INPUT, "name"))
    problems += v.check_text(r.display_name or "", (*INPUT, "displayName"), 200)
    percent = DEFAULT_PERCENT if r.output_percent is None else r.output_percent
    if not 0 < percent <= 100:
        message = "a percentage of the population above 0 and at most 100"
        problems.append(Problem(Code.INVALID_VALUE, (*INPUT, "outputPercent"), message))
    source = await get(deps, r.source_id) if r.source_id else None
    if source is None:
        return Outcome.fail(*problems, not_found((*INPUT, "source")))
    problems += _source_problems(source)
    population = await _population(deps, r, source, problems)
    problems += _feature_problems(deps, source.audience, r.features)
    if await store.get_segment_by_name(deps.db, r.name):
        problems.append(name_taken((*INPUT, "name")))
    if problems:
        return Outcome.fail(*problems)
    spec = ExpansionSpec(
        source_id=source.id, features=tuple(r.features), include_source=r.include_source,
        population_id=population.id if population else None, output_percent=percent,
    )  # fmt: skip
    return await _write(deps, r, source, population, spec)


def _source_problems(source: SegmentRecord) -> list[Problem]:
    if source.draft:
        message = "the source's definition does not compile (a draft); fix it first"
        return [Problem(Code.DEFINITION_INVALID, (*INPUT, "source"), message)]
    return []


async def _population(
    deps: Deps, r: ExpansionRequest, source: SegmentRecord, problems: list[Problem]
) -> SegmentRecord | None:
    if not r.population_given:
        return None
    field = (*INPUT, "population")
    found = await get(deps, r.population_id) if r.population_id else None
    if found is None:
        problems.append(not_found(field))
    elif found.audience != source.audience:
        message = f"the population must be of the source's audience, {source.audience}"
        problems.append(Problem(Code.AUDIENCE_MISMATCH, field, message))
    return found


def _feature_problems(deps: Deps, audience: str, features: Sequence[str]) -> list[Problem]:
    unknown = choose(expansion_features(deps.schema, audience), features).unknown
    return [
        Problem(Code.UNKNOWN_FEATURE, (*INPUT, "features", str(i)),
                f"{features[i]!r} is neither a feature nor an attribute with features")
        for i in unknown
    ]  # fmt: skip


async def _write(
    deps: Deps, r: ExpansionRequest, source: SegmentRecord, population: SegmentRecord | None,
    spec: ExpansionSpec,
) -> Outcome[SegmentRecord]:  # fmt: skip
    reads = (source.name, *((population.name,) if population else ()))
    definition = NewDefinition(text="", json=spec.to_json(), valid=True, diagnostics=(),
                               references=reads)  # fmt: skip
    new = NewSegment(
        id=str(uuid.uuid4()), name=r.name, display_name=r.display_name or r.name,
        description=f"Customers similar to {source.name}", type=SegmentType.EXPANSION,
        audience=source.audience, state=SegmentState.ACTIVE, tags=(), timezone=source.timezone,
        schedule_kind=ScheduleKind.SYSTEM, schedule_cron=None,
    )  # fmt: skip
    try:
        created = await store_expansion(deps.db, new, definition, spec.to_json(), deps.actor,
                                        deps.clock())  # fmt: skip
    except NameTaken:
        return Outcome.fail(name_taken((*INPUT, "name")))
    return Outcome(created)


async def get_expansion(deps: Deps, seg: SegmentRecord) -> ExpansionView | None:
    """The settings and last run of an expansion segment; None for other segments."""
    text = await expansion_graph.expansion_settings(deps.db, seg.id)
    if text is None:
        return None
    spec = ExpansionSpec.from_json(text)
    ids = [spec.source_id, *([spec.population_id] if spec.population_id else [])]
    found = await store.get_segments(deps.db, ids)
    summary = await expansion_graph.load_summary(deps.db, seg.id)
    return ExpansionView(spec, found[0], found[1] if len(found) > 1 else None, summary)


async def similarity(deps: Deps, seg: SegmentRecord, key: str | int) -> float | None:
    return await expansion_graph.similarity_of(deps.db, seg.id, key)
