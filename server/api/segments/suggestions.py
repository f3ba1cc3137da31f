"""Suggested segments (reference 004): measure-based, from the leaves of a regression tree of
a measure on influencing features, and activity-based, the cells of an RFM grid.

Both work on a random sample of the audience (the estimate's kept sample). Every proposal is
written as a definition in the segment language, compiled like any definition, and then that
definition is evaluated: its size by the estimate (exact where cheap), its averages over the
sample profiles the compiled query selects. So a suggestion's figures are those of the
segment it creates, not of the tree or the grid that proposed it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from grammar.cypher.forms import KEYS_PARAM
from scoring.suggest import RFM_NAMES, tercile_cuts, tree_leaves, welch_p
from server.api.context import Deps
from server.api.errors import Problem, UserErrorCode
from server.api.segments.commands import Outcome
from server.api.segments.definition import DefinitionCheck, check_definition
from server.api.segments.preview import Estimate, audience_size, estimate_size, sample_keys
from server.expansion import graph as g
from server.expansion.differentiators import sample
from server.features.plan import NUMERIC_WINDOW, FeaturePlan, plan_features
from server.refresh.graph import Graph
from server.store.evaluate import QueryTimedOut, execute_read
from server.suggestions.terms import Term, number, terms_of

Code = UserErrorCode
SAMPLE = 5_000  # profiles a suggestion is learned and averaged on
MAX_FIRST = 20
P_VALUE = 0.01  # a proposal whose average could be chance at this level is dropped
EVALUATE_S = 5.0  # a definition's run over the sample


@dataclass(frozen=True, slots=True)
class Suggestion:
    name: str  # a valid segment name, to create it with
    display_name: str
    text: str  # the definition, canonical
    estimate: Estimate | None  # the size of the whole audience
    sample_members: int  # of the sample, how many the definition selects
    average: float | None  # the measure over them
    values: tuple[tuple[str, float | None], ...]  # further averages (RFM: recency, frequency)
    p_value: float | None  # their average against the rest of the sample


@dataclass(frozen=True, slots=True)
class Suggestions:
    audience: str
    measure: str
    population_average: float | None
    sample_size: int
    items: tuple[Suggestion, ...]


@dataclass(frozen=True, slots=True)
class Catalogue:
    plan: FeaturePlan
    terms: dict[str, Term]


def catalogue(deps: Deps, audience: str) -> Catalogue:
    """The features of the audience that the language can say. Raises KeyError."""
    plan = plan_features(deps.schema, audience)
    return Catalogue(plan, terms_of(plan))


async def _sample(deps: Deps, audience: str) -> list[g.Key]:
    entity = deps.schema.require_entity(audience)
    keys = await sample_keys(deps, entity, await audience_size(deps, entity))
    return sample(keys or [], SAMPLE)


def _check(deps: Deps, text: str, audience: str) -> DefinitionCheck:
    return check_definition(
        text, None, deps.schema, audience=audience, timezone="UTC", now=deps.clock(),
        allow_pii=deps.principal.reads_pii,
    )  # fmt: skip


async def _selected(deps: Deps, check: DefinitionCheck, keys: list[g.Key]) -> set[g.Key] | None:
    """The sample keys the compiled definition selects; None past the time allowed."""
    assert check.compiled is not None
    form = check.compiled.forms.members_in_keys
    try:
        rows = await execute_read(deps.db, form.text, {**form.params, KEYS_PARAM: keys}, EVALUATE_S)
    except QueryTimedOut:
        return None
    return {r["key"] for r in rows}


def _digest(text: str) -> str:
    """Four hex digits of the definition: the same suggestion gets the same name anywhere."""
    return hashlib.blake2b(text.encode(), digest_size=2).hexdigest()


def _no_audience(audience: str) -> Problem:
    return Problem(Code.UNKNOWN_AUDIENCE, ("audience",), f"no entity {audience!r}")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "segment"


def _unknown(path: tuple[str, ...], name: str, terms: dict[str, Term]) -> list[Problem]:
    if name in terms:
        return []
    return [Problem(Code.UNKNOWN_FEATURE, path, f"not a feature of this audience: {name!r}")]


def _influencers(terms: dict[str, Term], measure: Term, asked: Sequence[str] | None) -> list[Term]:
    """The features asked for, or by default every other one except the measure's own
    records (a total of orders is explained by the number of orders: true, and no news)."""
    if asked:
        return [terms[name] for name in dict.fromkeys(asked) if name != measure.name]
    return [
        t for t in terms.values()
        if t.name != measure.name and not (measure.group and t.group == measure.group)
        and not (measure.attribute and t.attribute == measure.attribute)
    ]  # fmt: skip


async def suggest_by_measure(
    deps: Deps, audience: str, measure: str, influencers: Sequence[str] | None, first: int
) -> Outcome[Suggestions]:
    """Up to `first` segments whose average `measure` differs most from the audience's."""
    if audience not in {e.name for e in deps.schema.entities}:
        return Outcome.fail(
            Problem(Code.UNKNOWN_AUDIENCE, ("audience",), f"no entity {audience!r}")
        )
    if not 1 <= first <= MAX_FIRST:
        return Outcome.fail(Problem(Code.LIMIT_EXCEEDED, ("first",), f"first is 1 to {MAX_FIRST}"))
    cat = catalogue(deps, audience)
    problems = _unknown(("measure",), measure, cat.terms)
    for i, name in enumerate(influencers or []):
        problems += _unknown(("influencers", str(i)), name, cat.terms)
    if problems:
        return Outcome(None, tuple(problems))
    target = cat.terms[measure]
    chosen = _influencers(cat.terms, target, influencers)
    keys = await _sample(deps, audience)
    names = [f.name for f in cat.plan.features]
    rows = await g.feature_rows(Graph(deps.db.driver, deps.db.database), deps.schema, cat.plan,
                                keys, deps.clock())  # fmt: skip
    y = rows[:, names.index(measure)]
    x = rows[:, [names.index(t.name) for t in chosen]]
    population = float(np.nanmean(y)) if np.isfinite(y).any() else None
    items: list[Suggestion] = []
    for leaf in tree_leaves(x, y):
        if len(items) >= first or population is None:
            break
        conditions = [chosen[s.column].condition(s.upper, s.threshold) for s in leaf.splits]
        higher = leaf.mean > population
        title = f"{'Higher' if higher else 'Lower'} {target.label}"
        found = await _evaluate(deps, audience, conditions, keys, y, title, measure, population)
        if found is not None and found.p_value is not None and found.p_value < P_VALUE:
            items.append(found)
    view = Suggestions(audience, measure, population, len(keys), tuple(items))
    return Outcome(view)


async def _evaluate(
    deps: Deps, audience: str, conditions: list[str], keys: list[g.Key], y: np.ndarray,
    title: str, measure: str, population: float,
) -> Suggestion | None:  # fmt: skip
    text = f"segment {audience}\nwhere " + "\n  and ".join(conditions)
    check = _check(deps, text, audience)
    if not check.valid or check.compiled is None:
        return None
    picked = await _selected(deps, check, keys)
    if picked is None:
        return None
    inside = np.array([k in picked for k in keys])
    values_in, values_out = y[inside & np.isfinite(y)], y[~inside & np.isfinite(y)]
    if len(values_in) == 0:
        return None
    average = float(values_in.mean())
    ratio = f" (x{number(round(average / population, 2))})" if population else ""
    return Suggestion(
        name=f"suggested_{slug(measure)}_{_digest(text)}",
        display_name=f"{title}{ratio}", text=check.text or text,
        estimate=await estimate_size(deps, check.compiled), sample_members=int(inside.sum()),
        average=average, values=(), p_value=welch_p(values_in, values_out),
    )  # fmt: skip


async def suggest_rfm(
    deps: Deps, audience: str, activity: str, monetary: str | None, period_days: int
) -> Outcome[Suggestions]:
    """The cells of a three-by-three recency x frequency grid over `activity` records in the
    last `period_days`, named (champions, at risk, lost, ...), plus the inactive."""
    if audience not in {e.name for e in deps.schema.entities}:
        return Outcome.fail(
            Problem(Code.UNKNOWN_AUDIENCE, ("audience",), f"no entity {audience!r}")
        )
    if not 7 <= period_days <= 3650:
        return Outcome.fail(Problem(Code.INVALID_VALUE, ("periodDays",), "7 to 3650 days"))
    plan = plan_features(deps.schema, audience, windows=(period_days,))
    found = [a for a in plan.activities if a.related.entity.name == activity]
    if not found:
        options = sorted({a.related.entity.name for a in plan.activities})
        message = f"not an activity of {audience} (records with a date): choose one of {options}"
        return Outcome.fail(Problem(Code.UNKNOWN_FEATURE, ("activity",), message))
    act = found[0]
    prefix, time = act.related.prefix, act.time.name
    if monetary is not None and monetary not in {n.name for n in act.numbers}:
        numbers = sorted(n.name for n in act.numbers)
        message = f"not a numeric attribute of {activity}: choose one of {numbers}"
        return Outcome.fail(Problem(Code.UNKNOWN_FEATURE, ("monetary",), message))
    keys = await _sample(deps, audience)
    names = [f.name for f in plan.features]
    rows = await g.feature_rows(Graph(deps.db.driver, deps.db.database), deps.schema, plan,
                                keys, deps.clock())  # fmt: skip
    recency = rows[:, names.index(f"{prefix}.days_since_last")]
    frequency = rows[:, names.index(f"{prefix}.count_{period_days}d")]
    # The features total numeric values over their fixed numeric window (365 days).
    money = rows[:, names.index(f"{prefix}.{monetary}.sum_{NUMERIC_WINDOW}d")] if monetary else None
    active = frequency > 0
    r_cuts, f_cuts = tercile_cuts(recency[active]), tercile_cuts(frequency[active])
    r1, r2 = max(1, int(np.ceil(r_cuts.low))), max(1, int(np.ceil(r_cuts.high)))
    f1, f2 = int(np.floor(f_cuts.low)) + 1, int(np.floor(f_cuts.high)) + 1
    window = f"{time} in last {period_days} days"
    recent = {
        3: [f"any {activity} ({time} in last {r1} days)"],
        2: [
            f"any {activity} ({time} in last {r2} days)",
            f"no {activity} ({time} in last {r1} days)",
        ],
        1: [f"any {activity} ({window})", f"no {activity} ({time} in last {r2} days)"],
    }
    count = f"count {activity} ({window})"
    frequent = {3: [f"{count} >= {f2}"], 2: [f"{count} >= {f1}", f"{count} < {f2}"],
                1: [f"{count} < {f1}"]}  # fmt: skip
    cells = [(RFM_NAMES[(r, f)], recent[r] + frequent[f]) for r in (3, 2, 1) for f in (3, 2, 1)]
    cells.append((("inactive", f"Inactive: no {activity} in {period_days} days"),
                  [f"no {activity} ({window})"]))  # fmt: skip
    measure = money if money is not None else frequency
    population = float(np.nanmean(measure)) if len(keys) else None
    items = []
    for (name, title), conditions in cells:
        item = await _rfm_cell(deps, audience, name, title, conditions, keys, recency,
                               frequency, money)  # fmt: skip
        if item is not None:
            items.append(item)
    label = (
        f"total {activity}.{monetary} in the last {NUMERIC_WINDOW} days" if monetary
        else f"{activity} records in the last {period_days} days"
    )  # fmt: skip
    return Outcome(Suggestions(audience, label, population, len(keys), tuple(items)))


async def _rfm_cell(
    deps: Deps, audience: str, name: str, title: str, conditions: list[str], keys: list[g.Key],
    recency: np.ndarray, frequency: np.ndarray, money: np.ndarray | None,
) -> Suggestion | None:  # fmt: skip
    text = f"segment {audience}\nwhere " + "\n  and ".join(conditions)
    check = _check(deps, text, audience)
    if not check.valid or check.compiled is None:
        return None  # e.g. two cut points fell together: the cell is empty by construction
    picked = await _selected(deps, check, keys)
    if picked is None:
        return None
    inside = np.array([k in picked for k in keys], dtype=bool)

    def mean(values: np.ndarray) -> float | None:
        chosen = values[inside & np.isfinite(values)]
        return float(chosen.mean()) if len(chosen) else None

    measure = money if money is not None else frequency
    values: tuple[tuple[str, float | None], ...] = (
        ("recencyDays", mean(recency)), ("frequency", mean(frequency)),
    )  # fmt: skip
    if money is not None:
        values += (("monetary", mean(money)),)
    return Suggestion(
        name=f"rfm_{name}", display_name=title, text=check.text or text,
        estimate=await estimate_size(deps, check.compiled), sample_members=int(inside.sum()),
        average=mean(measure), values=values, p_value=None,
    )  # fmt: skip
