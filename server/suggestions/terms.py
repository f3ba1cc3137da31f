"""Features written back as conditions of the segment language.

Suggestions come from features (server.features: counts in windows, sums, days since, the
profile's own values); a proposal "feature <= x" must become text a marketer can read, edit
and save. Each Term prints both sides of a cut. Names are the features' names, so the terms of
a schema are the features its plan has; a term whose text does not compile (a related entity
reached by several paths) is left out by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from graph_schema import AttrType
from server.features.plan import NUMERIC_WINDOW, Activity, FeaturePlan, ToOne

Print = Callable[[bool, float], str]  # (upper, threshold) -> condition text


@dataclass(frozen=True, slots=True)
class Term:
    name: str  # the feature's name, e.g. `Order.total.sum_365d`
    label: str  # for people: "total Order total in the last 365 days"
    attribute: str  # `Entity.attribute` it reads ("" for counts): its family, for exclusions
    printer: Print
    group: str = ""  # the related entity's prefix (`Order`); "" for the profile's own values

    def condition(self, upper: bool, threshold: float) -> str:
        """The condition for `value <= threshold` (upper) or `value > threshold`."""
        return self.printer(upper, threshold)


def number(x: float) -> str:
    """A threshold as the language reads it: integers plainly, others to two decimals."""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _compare(expr: str) -> Print:
    return lambda upper, t: f"{expr} {'<=' if upper else '>'} {number(round(t, 2))}"


def _count(expr: str) -> Print:
    """Counts are whole: <= 2.5 is <= 2, > 2.5 is >= 3."""
    return lambda upper, t: (
        f"{expr} <= {math.floor(t)}" if upper else f"{expr} >= {math.floor(t) + 1}"
    )


def _flag(expr: str) -> Print:
    return lambda upper, _t: f"{expr} is {'false' if upper else 'true'}"


def _days_ago(attr: str) -> Print:
    """days since `attr` <= d: within the last d days; > d: before d days ago."""

    def text(upper: bool, t: float) -> str:
        days = max(1, math.ceil(t))
        return f"{attr} in last {days} days" if upper else f"{attr} before {days} days ago"

    return text


def _recent(entity: str, time: str) -> Print:
    """days since the last record <= d: one in the last d days; > d: none."""

    def text(upper: bool, t: float) -> str:
        days = max(1, math.ceil(t))
        return f"{'any' if upper else 'no'} {entity} ({time} in last {days} days)"

    return text


def _exists(entity: str) -> Print:
    return lambda upper, _t: f"{'no' if upper else 'any'} {entity}"


def _within(entity: str, inner: Print) -> Print:
    """A to-one related record's value: `any Account (revenue > 5)`."""
    return lambda upper, t: f"any {entity} ({inner(upper, t)})"


def _own(t: ToOne) -> list[Term]:
    e = t.related.entity.name
    out: list[Term] = []
    for a in t.values:
        printer = _flag(a.name) if a.type is AttrType.BOOLEAN else _compare(a.name)
        out.append(Term(f"{e}.{a.name}", f"{e} {a.name}", f"{e}.{a.name}", printer))
    for a in t.dates:
        out.append(Term(f"{e}.{a.name}.days_ago", f"days since {e} {a.name}", f"{e}.{a.name}",
                        _days_ago(a.name)))  # fmt: skip
    return out


def _related(t: ToOne) -> list[Term]:
    p, e = t.related.prefix, t.related.entity.name
    out = [Term(f"{p}.exists", f"has a {e}", "", _exists(e))]
    for a in t.values:
        inner = _flag(a.name) if a.type is AttrType.BOOLEAN else _compare(a.name)
        out.append(Term(f"{p}.{a.name}", f"{e} {a.name}", f"{e}.{a.name}", _within(e, inner)))
    for a in t.dates:
        out.append(Term(f"{p}.{a.name}.days_ago", f"days since {e} {a.name}", f"{e}.{a.name}",
                        _within(e, _days_ago(a.name))))  # fmt: skip
    return out


def _activity(a: Activity, windows: tuple[int, ...]) -> list[Term]:
    p, e, time = a.related.prefix, a.related.entity.name, a.time.name
    out = [
        Term(f"{p}.count_{w}d", f"{e} records in the last {w} days", "",
             _count(f"count {e} ({time} in last {w} days)"))
        for w in windows
    ]  # fmt: skip
    out.append(Term(f"{p}.count_all", f"{e} records ever", "", _count(f"count {e}")))
    out.append(Term(f"{p}.days_since_last", f"days since the last {e}", "", _recent(e, time)))
    for n in a.numbers:
        out += [
            Term(f"{p}.{n.name}.sum_{NUMERIC_WINDOW}d",
                 f"sum of {e}.{n.name} in the last {NUMERIC_WINDOW} days", f"{e}.{n.name}",
                 _compare(f"sum {e}.{n.name} ({time} in last {NUMERIC_WINDOW} days)")),
            Term(f"{p}.{n.name}.avg", f"average {e}.{n.name}", f"{e}.{n.name}",
                 _compare(f"avg {e}.{n.name}")),
        ]  # fmt: skip
    out += [
        Term(f"{p}.{f.name}.true_{NUMERIC_WINDOW}d",
             f"{e} with {f.name} in the last {NUMERIC_WINDOW} days", f"{e}.{f.name}",
             _count(f"count {e} ({f.name} is true and {time} in last {NUMERIC_WINDOW} days)"))
        for f in a.flags
    ]  # fmt: skip
    return out


def _grouped(terms: list[Term], group: str) -> list[Term]:
    return [Term(t.name, t.label, t.attribute, t.printer, group) for t in terms]


def terms_of(plan: FeaturePlan) -> dict[str, Term]:
    """A term per feature of the plan that the language can say (category counts are not
    planned here: the caller plans without them)."""
    found: list[Term] = []
    for t in plan.to_one:
        found += _grouped(_related(t), t.related.prefix) if t.related.steps else _own(t)
    for a in plan.activities:
        found += _grouped(_activity(a, plan.windows), a.related.prefix)
    names = {f.name for f in plan.features}
    return {t.name: t for t in found if t.name in names}
