"""The column path's queries: per batch of profile keys, one query for the to-one parts and one
per activity, each returning a single record of flat lists that `server.features.fold` turns
into the plan's features with numpy.

The to-one query finds the batch's profiles by key and returns their element ids; each
activity query finds them again by those ids (a seek by id costs a fraction of a unique-index
seek) and returns one entry per related record: `owner` (the profile's position in `$ids`),
`t` (the record's time: epoch milliseconds of a datetime, a date's age in days as of
`$today`), one column per number (float, NaN when absent), per flag (1 when true, else 0)
and per category attribute (the value's position in the plan's values, -1 for another).
Lists cannot hold nulls that `collect` would drop, so absent values are sentinels and every
column stays aligned with `owner`. The windows, recency, sums and per-value counts that the
per-profile query of `server.features.cypher` works out with a CASE per record and feature
are then array arithmetic: Neo4j reads each property once per record, and the driver decodes
lists of numbers far faster than a record per profile.

Labels, types and properties come from schema objects through `quote_identifier`; every value
(keys, `$now`, category values, sentinels) is a parameter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from graph_schema import Attribute, AttrType, GraphSchema, quote_identifier
from server.features.cypher import pattern, to_one_part
from server.features.plan import Activity, FeaturePlan

q = quote_identifier
MISSING = -(2**62)  # the time of a record without one (no real epoch or age comes near it)


@dataclass(frozen=True, slots=True)
class ActivityRead:
    activity: Activity
    text: str  # columns: owner, t, n0.., f0.., c0..


@dataclass(frozen=True, slots=True)
class ColumnReads:
    """The queries of one plan and their constant parameters."""

    to_one: str  # columns: owner, ids (element ids), rows (the to-one parts' numbers), per
    # profile found; takes `$keys`
    activities: tuple[ActivityRead, ...]  # take `$ids`, the element ids the to-one query found
    params: dict[str, Any]


def column_reads(schema: GraphSchema, plan: FeaturePlan, now: dt.datetime) -> ColumnReads:
    """The plan's column queries as of `now`. Raises ValueError for a naive `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    params: dict[str, Any] = {"now": now, "today": now.date(), "missing": MISSING,
                              "nan": float("nan")}  # fmt: skip
    profile = plan.profile
    parts = [to_one_part(schema, t) for t in plan.to_one]
    to_one = "\n".join([
        "UNWIND range(0, size($keys) - 1) AS i",
        f"MATCH (p:{q(profile.label)} {{{q(profile.key)}: $keys[i]}})",
        *(f"CALL (p) {{ {body}{i} }}" for i, body in enumerate(parts)),
        "RETURN collect(i) AS owner, collect(elementId(p)) AS ids, "
        f"collect({' + '.join(f'g{i}' for i in range(len(parts)))}) AS rows",
    ])  # fmt: skip
    head = (
        "UNWIND range(0, size($ids) - 1) AS i\n"
        f"MATCH (p:{q(profile.label)}) WHERE elementId(p) = $ids[i] "
        f"AND p.{q(profile.key)} = $idKeys[i]"
    )
    activities = tuple(
        ActivityRead(a, _activity_read(schema, head, a, params)) for a in plan.activities
    )
    return ColumnReads(to_one, activities, params)


def time_column(attr: Attribute) -> str:
    """Epoch milliseconds of a datetime; a date's age in whole days as of $today."""
    prop = f"x.{q(attr.name)}"
    if attr.type is AttrType.DATE:
        return f"coalesce(duration.inDays({prop}, $today).days, $missing)"
    return f"coalesce({prop}.epochMillis, $missing)"


def _activity_read(schema: GraphSchema, head: str, part: Activity, params: dict[str, Any]) -> str:
    columns = ["i AS owner", f"{time_column(part.time)} AS t"]
    columns += [f"coalesce(toFloat(x.{q(n.name)}), $nan) AS n{j}"
                for j, n in enumerate(part.numbers)]  # fmt: skip
    columns += [f"CASE WHEN x.{q(f.name)} THEN 1 ELSE 0 END AS f{j}"
                for j, f in enumerate(part.flags)]  # fmt: skip
    for j, (attr, values) in enumerate(part.categories):
        cases = []
        for code, value in enumerate(values):
            name = f"c{len(params)}"
            params[name] = value
            cases.append(f"WHEN ${name} THEN {code}")
        columns.append(f"CASE x.{q(attr.name)} {' '.join(cases)} ELSE -1 END AS c{j}")
    names = [c.rsplit(" AS ", 1)[1] for c in columns]
    return "\n".join([
        head,
        f"MATCH {pattern(schema, part.related.steps, 'x')}",
        f"WITH {', '.join(columns)}",
        f"RETURN {', '.join(f'collect({n}) AS {n}' for n in names)}",
    ])  # fmt: skip
