"""What sales read: leads of a model in score order (keyset cursor over the `leadScore` index)
and one lead's stored values and score history."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from graph_schema import quote_identifier as q
from graph_schema.engine_labels import MEMBER_REL, SEGMENT_LABEL
from graph_schema.model import Attribute, Entity, Relationship
from server.leads import packed
from server.leads import schema_attributes as a
from server.leads.records import HistoryEntry
from server.refresh.graph import compiled
from server.refresh.spans import member_at
from server.store.db import Db
from server.store.members import plain_value
from server.store.pages import InvalidCursor


@dataclass(frozen=True, slots=True, kw_only=True)
class LeadRow:
    key: Any
    score: float
    grade: str | None
    sales_ready: bool
    sales_ready_at: Any
    rule_points: tuple[float, ...]
    version: int
    properties: dict[str, Any]  # the profile's own attributes, JSON-ready
    # what the published predictive model wrote: "{model id}:{version}" and its top factors
    # (positions in the version's features, points, log-odds, values)
    predicted_by: str | None = None
    factors: tuple[list[int], list[float], list[float], list[float]] | None = None
    # the predicted score's recent history entries kept on the profile (`packed`)
    recent_history: tuple[str, ...] = ()


def encode_cursor(score: float, key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([score, key]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, Any]:
    """Raises InvalidCursor."""
    try:
        score, key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(score), key
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor of this list") from exc


@dataclass(frozen=True, slots=True)
class Scorer:
    """Which written score a list orders by: the points model's or the predictive model's."""

    score: str  # the property holding the score
    by: str  # the property naming "{model id}:{version}"


POINTS = Scorer(a.LEAD_SCORE, a.SCORED_BY)
PREDICTIVE = Scorer(a.PREDICTED_SCORE, a.PREDICTED_BY)


def _to_row(props: dict[str, Any], key_name: str, scorer: Scorer = POINTS) -> LeadRow:
    scored_by = str(props.get(scorer.by) or ":0")
    own = {k: plain_value(v) for k, v in props.items() if not k.startswith("_")}
    return LeadRow(
        key=props[key_name], score=float(props[scorer.score]), grade=props.get(a.LEAD_GRADE),
        sales_ready=bool(props.get(a.SALES_READY)), sales_ready_at=props.get(a.SALES_READY_AT),
        rule_points=tuple(props.get(a.RULE_POINTS) or ()),
        version=int(scored_by.rsplit(":", 1)[1]), properties=own,
        predicted_by=props.get(a.PREDICTED_BY), factors=_factors(props),
        recent_history=tuple(props.get(a.PREDICTED_HISTORY) or ()),
    )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """Leads owned by `value`: the profile's own attribute (`relationship` None) or an
    attribute of the entity one to-one step away (`Contact -WORKS_AT-> Account.ownerId`).
    Every name here comes from the schema; the value is a parameter."""

    attribute: Attribute
    value: Any
    relationship: Relationship | None = None
    outgoing: bool = True
    target: Entity | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Audience:
    """Leads that are current members of a segment (its active version)."""

    segment_id: str
    version: int


def _owner_condition(owner: Owner | None) -> str:
    if owner is None:
        return ""
    if owner.relationship is None or owner.target is None:
        return f"AND p.{q(owner.attribute.name)} = $owner "
    rel = f"-[:{q(owner.relationship.type)}]->" if owner.outgoing else (
        f"<-[:{q(owner.relationship.type)}]-")  # fmt: skip
    return (f"AND EXISTS {{ MATCH (p){rel}(o:{q(owner.target.label)}) "
            f"WHERE o.{q(owner.attribute.name)} = $owner }} ")  # fmt: skip


def _audience_condition(audience: Audience | None) -> str:
    if audience is None:
        return ""
    return (
        f"AND EXISTS {{ MATCH (:{SEGMENT_LABEL} {{id: $segment}})-[m:{MEMBER_REL}]->(p) "
        "WHERE " + member_at("$segmentVersion") + " } "
    )


def _factors(
    props: dict[str, Any],
) -> tuple[list[int], list[float], list[float], list[float]] | None:
    pack = packed.unpack_factors(props.get(a.FACTOR_PACK))
    if pack is not None:
        return pack.features, pack.points, pack.log_odds, pack.values
    parts = (a.FACTORS, a.FACTOR_POINTS, a.FACTOR_LOG_ODDS, a.FACTOR_VALUES)  # written before
    found = [props.get(name) for name in parts]
    if None in found:
        return None
    features, points, log_odds, values = (list(f or ()) for f in found)
    return features, points, log_odds, values


def _page_text(
    entity: Entity, owner: Owner | None, audience: Audience | None, scorer: Scorer
) -> str:
    p, score, key = "p", f"p.{q(scorer.score)}", f"p.{q(entity.key)}"
    filters = _owner_condition(owner) + _audience_condition(audience)
    return (
        f"MATCH ({p}:{q(entity.label)}) WHERE {score} IS NOT NULL {filters}"
        f"AND {p}.{q(scorer.by)} STARTS WITH $prefix "
        f"AND ($grade IS NULL OR {p}.{q(a.LEAD_GRADE)} = $grade) "
        f"AND ($ready IS NULL OR coalesce({p}.{q(a.SALES_READY)}, false) = $ready) "
        f"AND ($score IS NULL OR {score} < $score OR ({score} = $score AND {key} > $key)) "
        f"RETURN properties({p}) AS props ORDER BY {score} DESC, {key} LIMIT $limit"
    )


async def leads_page(
    db: Db, entity: Entity, model_id: str, *, grade: str | None, sales_ready: bool | None,
    first: int, after: str | None, owner: Owner | None = None, audience: Audience | None = None,
    scorer: Scorer = POINTS,
) -> list[LeadRow]:  # fmt: skip
    """Up to `first` + 1 leads after the cursor, best score first. Raises InvalidCursor."""
    score, key = decode_cursor(after) if after else (None, None)
    params = {"prefix": f"{model_id}:", "grade": grade, "ready": sales_ready, "score": score,
              "key": key, "limit": first + 1, "owner": owner.value if owner else None,
              "segment": audience.segment_id if audience else None,
              "segmentVersion": audience.version if audience else None}  # fmt: skip
    found = await db.read(compiled(_page_text(entity, owner, audience, scorer)), **params)
    return [_to_row(dict(r["props"]), entity.key, scorer) for r in found]


async def lead(
    db: Db, entity: Entity, model_id: str, key: Any, scorer: Scorer = POINTS
) -> LeadRow | None:
    text = (
        f"MATCH (p:{q(entity.label)} {{{q(entity.key)}: $key}}) "
        f"WHERE p.{q(scorer.by)} STARTS WITH $prefix RETURN properties(p) AS props"
    )
    found = await db.read(compiled(text), key=key, prefix=f"{model_id}:")
    return _to_row(dict(found[0]["props"]), entity.key, scorer) if found else None


async def history(
    db: Db, model_id: str, key: Any, first: int, recent: tuple[str, ...] = ()
) -> list[HistoryEntry]:
    """Score changes of one profile under one model, newest first: the `_ScoreHistory` nodes
    (points runs, and predicted entries moved off the profile) and the entries `recent` the
    profile keeps (`packed`)."""
    found = await db.read(
        "MATCH (h:_ScoreHistory {modelId: $id, key: $key}) RETURN h ORDER BY h.at DESC LIMIT $n",
        id=model_id, key=key, n=first,
    )  # fmt: skip
    nodes = [
        HistoryEntry(at=h["at"].to_native(), version=h["version"], score=h.get("score"),
                     grade=h.get("grade"), sales_ready=bool(h.get("salesReady")))
        for h in (dict(r["h"]) for r in found)
    ]  # fmt: skip
    kept = packed.parse_entries(model_id, list(recent))
    return sorted(nodes + kept, key=lambda h: h.at, reverse=True)[: max(first, 0)]
