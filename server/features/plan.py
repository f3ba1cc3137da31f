"""Which features a profile entity has, derived from the graph schema alone.

- the profile's own numeric and boolean attributes, and its dates as "days ago";
- the same for entities reached by to-one steps (a lead's customer, a contact's account),
  with an `exists` flag for each;
- for each entity reached by a simple path of up to `max_hops` steps whose last step is
  to-many, with a date/datetime attribute (an activity): counts in windows, days since the last,
  sums and averages of its numeric attributes, counts of its true booleans, and counts per
  value of its low-cardinality indexed strings (values found in the data, see `categories`).

Paths never return to the profile entity: a lead's customer's other leads would leak the
outcome. Nothing here knows the default schema's labels.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from graph_schema import Attribute, AttrType, Cardinality, Direction, Entity, GraphSchema, Step

WINDOWS = (7, 30, 90, 365)
CATEGORY_WINDOWS = (30, 365)
NUMERIC_WINDOW = 365  # sums of numeric attributes cover this many days
NEVER_DAYS = 3650.0  # "days since last" for a profile with no such activity


@dataclass(frozen=True, slots=True)
class Feature:
    name: str  # stable, machine-friendly: `Order.total.sum_365d`
    label: str  # for people reading explanations


@dataclass(frozen=True, slots=True)
class Related:
    """An entity reached from the profile by `steps` (empty: the profile itself)."""

    steps: tuple[Step, ...]
    entity: Entity
    prefix: str  # feature name prefix, unique within the plan


@dataclass(frozen=True, slots=True)
class ToOne:
    related: Related
    values: tuple[Attribute, ...]  # numeric and boolean, taken as they are
    dates: tuple[Attribute, ...]  # taken as days ago


@dataclass(frozen=True, slots=True)
class Activity:
    related: Related
    time: Attribute  # the date/datetime that places each record in time
    numbers: tuple[Attribute, ...]
    flags: tuple[Attribute, ...]
    categories: tuple[tuple[Attribute, tuple[str, ...]], ...]  # attribute and its values


@dataclass(frozen=True, slots=True)
class FeaturePlan:
    profile: Entity
    to_one: tuple[ToOne, ...]  # the profile itself first
    activities: tuple[Activity, ...]
    windows: tuple[int, ...]
    category_windows: tuple[int, ...]

    @property
    def features(self) -> tuple[Feature, ...]:
        return tuple(f for group in self.groups() for f in group)

    def groups(self) -> tuple[tuple[Feature, ...], ...]:
        """Features per query part, in the order the extractor returns them."""
        return (
            *(_to_one_features(t) for t in self.to_one),
            *(_activity_features(a, self.windows, self.category_windows) for a in self.activities),
        )


def is_to_one(step: Step) -> bool:
    card = step.relationship.cardinality
    if step.direction is Direction.OUT:
        return card in (Cardinality.ONE_TO_ONE, Cardinality.MANY_TO_ONE)
    return card in (Cardinality.ONE_TO_ONE, Cardinality.ONE_TO_MANY)


def is_activity_path(r: Related) -> bool:
    """Records on the many side of the last step: a lead's orders, not an order's product
    (the product is an attribute of the order, reached to-one from it)."""
    return bool(r.steps) and not is_to_one(r.steps[-1])


def related_entities(schema: GraphSchema, profile: Entity, max_hops: int) -> list[Related]:
    """Every simple path of 1..max_hops steps from the profile that never comes back to it
    and is a to-one chain or ends on a to-many step, in schema declaration order (so names
    and column order are deterministic)."""
    found: list[tuple[Step, ...]] = []

    def walk(steps: tuple[Step, ...], seen: frozenset[str]) -> None:
        end = steps[-1].destination if steps else profile.name
        for step in schema.relationships_of(end):
            if step.destination not in seen and len(steps) < max_hops:
                found.append((*steps, step))
                walk((*steps, step), seen | {step.destination})

    walk((), frozenset({profile.name}))
    # keep what becomes features (to-one chains and activities) before naming collisions
    found = [s for s in found if all(is_to_one(x) for x in s) or not is_to_one(s[-1])]
    entities = [schema.require_entity(s[-1].destination) for s in found]
    counts = {e.name: sum(x.name == e.name for x in entities) for e in entities}
    return [
        Related(s, e, e.name if counts[e.name] == 1 else _path_prefix(s))
        for s, e in zip(found, entities, strict=True)
    ]


def _path_prefix(steps: tuple[Step, ...]) -> str:
    return "/".join(f"{s.relationship.type}:{s.destination}" for s in steps)


def plan_features(
    schema: GraphSchema,
    profile: str,
    *,
    exclude: Collection[str] = (),
    categories: Mapping[tuple[str, str], tuple[str, ...]] | None = None,
    max_hops: int = 2,
    windows: tuple[int, ...] = WINDOWS,
    category_windows: tuple[int, ...] = CATEGORY_WINDOWS,
) -> FeaturePlan:
    """The feature plan of `profile` (an entity name) in `schema`.

    `exclude` names attributes never to use, as `attribute` (on the profile) or
    `Entity.attribute`: the outcome and anything recorded because of it (`convertedAt`).
    `categories` maps (entity, attribute) to the values to count (from `discover_categories`).
    Raises KeyError for an unknown profile entity.
    """
    entity = schema.require_entity(profile)
    banned = {x.casefold() for x in exclude} | {f"{entity.name}.{x}".casefold() for x in exclude}
    to_one = [_to_one(Related((), entity, entity.name), banned)]
    activities = []
    for r in related_entities(schema, entity, max_hops):
        if all(is_to_one(s) for s in r.steps):
            to_one.append(_to_one(r, banned))
        elif (found := _activity(r, banned, categories or {})) is not None:
            activities.append(found)
    return FeaturePlan(entity, tuple(to_one), tuple(activities), windows, category_windows)


# Written by the engine's lead scoring (server/leads/schema_attributes.py): a model reading
# them would learn the points model back, or its own earlier output.
ENGINE_OWNED = frozenset(
    {"leadscore", "leadgrade", "salesready", "salesreadyat", "leadprobability", "predictedscore"}
)


def _usable(e: Entity, banned: set[str]) -> list[Attribute]:
    """Attributes a model may read: not the key, not personal data, not engine-owned scores,
    not excluded."""
    return [
        a for a in e.attributes
        if a.name != e.key and not a.pii and a.name.casefold() not in banned
        and a.name.casefold() not in ENGINE_OWNED
        and f"{e.name}.{a.name}".casefold() not in banned
    ]  # fmt: skip


def _to_one(r: Related, banned: set[str]) -> ToOne:
    usable = _usable(r.entity, banned)
    values = tuple(a for a in usable if a.type.is_numeric or a.type is AttrType.BOOLEAN)
    return ToOne(r, values, tuple(a for a in usable if a.type.is_temporal))


def _activity(
    r: Related, banned: set[str], categories: Mapping[tuple[str, str], tuple[str, ...]]
) -> Activity | None:
    usable = _usable(r.entity, banned)
    times = sorted((a for a in usable if a.type.is_temporal), key=lambda a: a.type is AttrType.DATE)
    if not times:
        return None  # no way to place its records in time: no windows, no recency
    strings = tuple(
        (a, categories[(r.entity.name, a.name)]) for a in usable
        if a.type is AttrType.STRING and categories.get((r.entity.name, a.name))
    )  # fmt: skip
    return Activity(
        r, times[0], tuple(a for a in usable if a.type.is_numeric),
        tuple(a for a in usable if a.type is AttrType.BOOLEAN), strings,
    )  # fmt: skip


def category_candidates(
    schema: GraphSchema, profile: str, max_hops: int = 2
) -> list[tuple[Entity, Attribute]]:
    """Indexed, non-personal string attributes of the activities: those worth counting per
    value if the data shows few distinct values."""
    entity = schema.require_entity(profile)
    out = []
    for r in related_entities(schema, entity, max_hops):
        if not is_activity_path(r):
            continue
        out += [
            (r.entity, a)
            for a in r.entity.attributes
            if a.type is AttrType.STRING and a.indexed and not a.pii and a.name != r.entity.key
        ]
    return out


def _to_one_features(t: ToOne) -> tuple[Feature, ...]:
    p, what = t.related.prefix, t.related.entity.name
    out = [Feature(f"{p}.exists", f"has a {what}")] if t.related.steps else []
    out += [Feature(f"{p}.{a.name}", f"{what} {a.name}") for a in t.values]
    out += [Feature(f"{p}.{a.name}.days_ago", f"days since {what} {a.name}") for a in t.dates]
    return tuple(out)


def _activity_features(
    a: Activity, windows: tuple[int, ...], category_windows: tuple[int, ...]
) -> tuple[Feature, ...]:
    p, what = a.related.prefix, a.related.entity.name
    out = [Feature(f"{p}.count_{w}d", f"{what} records in the last {w} days") for w in windows]
    out += [Feature(f"{p}.count_all", f"{what} records ever"),
            Feature(f"{p}.days_since_last", f"days since the last {what}")]  # fmt: skip
    for n in a.numbers:
        out += [Feature(f"{p}.{n.name}.sum_{NUMERIC_WINDOW}d",
                        f"total {what} {n.name} in the last {NUMERIC_WINDOW} days"),
                Feature(f"{p}.{n.name}.avg", f"average {what} {n.name}")]  # fmt: skip
    out += [
        Feature(
            f"{p}.{f.name}.true_{NUMERIC_WINDOW}d",
            f"{what} with {f.name} in the last {NUMERIC_WINDOW} days",
        )
        for f in a.flags
    ]
    for attr, values in a.categories:
        out += [Feature(f"{p}.{attr.name}={v}.count_{w}d",
                        f"{what} with {attr.name} = {v} in the last {w} days")
                for v in values for w in category_windows]  # fmt: skip
    return tuple(out)
