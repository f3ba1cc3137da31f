"""The feature query of a plan: printed from schema objects only, every value a parameter.

One query per batch of profile keys: `UNWIND $keys`, an index seek on the profile key, then
one `CALL (p) { ... }` per plan group returning a list of numbers, so a group that matches
nothing still gives one row (aggregates over no rows: counts 0, the rest null).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from graph_schema import Attribute, AttrType, Direction, GraphSchema, Step, quote_identifier
from server.features.plan import NEVER_DAYS, NUMERIC_WINDOW, Activity, FeaturePlan, ToOne

q = quote_identifier


def pattern(schema: GraphSchema, steps: tuple[Step, ...], end: str) -> str:
    """`(p)<-[:T]-(:A)-[:U]->(x:B)`: the steps from the profile, naming only the far end."""
    out = "(p)"
    for i, s in enumerate(steps):
        label = q(schema.require_entity(s.destination).label)
        rel = f"[:{q(s.relationship.type)}]"
        out += f"-{rel}->" if s.direction is Direction.OUT else f"<-{rel}-"
        out += f"({end if i == len(steps) - 1 else ''}:{label})"
    return out


def age_expression(var: str, attr: Attribute) -> str:
    """Days from the attribute to $now (dates from $today), as a float."""
    prop = f"{var}.{q(attr.name)}"
    if attr.type is AttrType.DATE:
        return f"toFloat(duration.inDays({prop}, $today).days)"
    return f"duration.inSeconds({prop}, $now).seconds / 86400.0"


def _since(attr: Attribute, days: int) -> str:
    return f"$since{days}{'d' if attr.type is AttrType.DATE else ''}"


def _as_number(expr: str, attr: Attribute) -> str:
    if attr.type is AttrType.BOOLEAN:
        return f"CASE {expr} WHEN true THEN 1.0 WHEN false THEN 0.0 END"
    return f"toFloat({expr})"


def to_one_part(schema: GraphSchema, part: ToOne) -> str:
    """A subquery body returning the part's numbers as `g` (the caller appends its number)."""
    steps = part.related.steps
    var = "t" if steps else "p"
    values = [_as_number(f"{var}.{q(a.name)}", a) for a in part.values]
    ages = [_age_or_null(var, a) for a in part.dates]
    exists = ["CASE WHEN t IS NULL THEN 0.0 ELSE 1.0 END"] if steps else []
    # LIMIT 1: data breaking a declared to-one cardinality must not multiply rows
    head = f"OPTIONAL MATCH {pattern(schema, steps, 'pt')} WITH pt AS t LIMIT 1 " if steps else ""
    return f"{head}RETURN [{', '.join([*exists, *values, *ages])}] AS g"  # caller numbers g


def _age_or_null(var: str, attr: Attribute) -> str:
    prop = f"{var}.{q(attr.name)}"
    return f"CASE WHEN {prop} IS NULL THEN null ELSE {age_expression(var, attr)} END"


def _activity_part(
    schema: GraphSchema, part: Activity, plan: FeaturePlan, params: dict[str, Any]
) -> str:
    t = part.time
    # `ts` is the record's time, null for records after $now. Filtering inside the aggregates
    # rather than in WHERE leaves the planner no time predicate to seek on: with a WHERE and
    # stale statistics (right after an import) it scanned the whole time index per profile.
    ts = (
        f"CASE WHEN x.{q(t.name)} <= {'$today' if t.type is AttrType.DATE else '$now'} "
        f"THEN x.{q(t.name)} END"
    )
    aggregates = [f"sum(CASE WHEN ts >= {_since(t, w)} THEN 1 ELSE 0 END)" for w in plan.windows]
    aggregates += ["count(ts)", f"coalesce({_days_since('max(ts)', t)}, $never)"]
    recent = f"ts >= {_since(t, NUMERIC_WINDOW)}"
    for n in part.numbers:
        value = _as_number(f"x.{q(n.name)}", n)
        aggregates += [f"sum(CASE WHEN {recent} THEN {value} END)",
                       f"avg(CASE WHEN ts IS NOT NULL THEN {value} END)"]  # fmt: skip
    aggregates += [f"sum(CASE WHEN {recent} AND x.{q(f.name)} THEN 1 ELSE 0 END)"
                   for f in part.flags]  # fmt: skip
    for attr, values in part.categories:
        for v in values:
            name = f"c{len(params)}"
            params[name] = v
            aggregates += [
                f"sum(CASE WHEN x.{q(attr.name)} = ${name} AND ts >= {_since(t, w)} "
                "THEN 1 ELSE 0 END)"
                for w in plan.category_windows
            ]
    return (
        f"MATCH {pattern(schema, part.related.steps, 'x')} WITH x, {ts} AS ts "
        f"RETURN [{', '.join(aggregates)}] AS g"
    )


def _days_since(expr: str, attr: Attribute) -> str:
    if attr.type is AttrType.DATE:
        return f"toFloat(duration.inDays({expr}, $today).days)"
    return f"duration.inSeconds({expr}, $now).seconds / 86400.0"


def feature_query(schema: GraphSchema, plan: FeaturePlan) -> tuple[str, dict[str, Any]]:
    """The batch query (parameter `$keys` plus the time parameters of `time_params`) and its
    constant parameters (category values). Column order is `plan.features` order."""
    params: dict[str, Any] = {}
    parts = [to_one_part(schema, t) for t in plan.to_one]
    parts += [_activity_part(schema, a, plan, params) for a in plan.activities]
    profile = plan.profile
    lines = [
        "UNWIND $keys AS key",
        f"MATCH (p:{q(profile.label)} {{{q(profile.key)}: key}})",
        *(f"CALL (p) {{ {body}{i} }}" for i, body in enumerate(parts)),
        f"RETURN key, {' + '.join(f'g{i}' for i in range(len(parts)))} AS row",
    ]
    return "\n".join(lines), params


def time_params(now: dt.datetime, windows: tuple[int, ...]) -> dict[str, Any]:
    """$now, $today, $never and the start of every window ($sinceN datetime, $sinceNd date).

    Raises ValueError for a naive `now` (the graph's datetimes carry time zones).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    params: dict[str, Any] = {"now": now, "today": now.date(), "never": NEVER_DAYS}
    for w in sorted({*windows, NUMERIC_WINDOW}):
        params[f"since{w}"] = now - dt.timedelta(days=w)
        params[f"since{w}d"] = (now - dt.timedelta(days=w)).date()
    return params
