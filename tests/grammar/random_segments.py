"""A seeded generator of random well-typed segment texts for a schema: every operator, quantifier,
aggregate, window, anniversary, sequence, relationship attribute, segment reference, nested
boolean logic and set operator, with values drawn from the dataset's own pools so that equality
and window edges are actually hit."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from grammar import ast as a
from graph_schema import Attribute, AttrType, Entity, GraphSchema, Relationship
from tests.grammar.random_data import AMOUNTS, STRINGS, UNITS, Pools, windows

_WORDS = (
    "segment timezone where union intersect except or and not in is empty true false between "
    "before after contains starts ends with matches case sensitive anniversary any no all count "
    "sum avg min max via then within ago from now the last next this today yesterday tomorrow "
    "hour hours day days week weeks month months quarter quarters year years"
)
KEYWORDS = frozenset(_WORDS.split())
REGEXES = (
    "a.*", ".*York", "[Nn]ew.*", r"\d+", r"a\d", "(?i)abc", "a|A", "", ".*", r"[^a]*", r"\w+",
    r"\s", "(?i)istanbul", "😀", r"say \"hi\"", r"back\\slash", r"a\.b", ".",
)  # fmt: skip
SUBSTRINGS = ("", "a", "A", "york", "YORK", "new", "ss", "SS", "i̇", "😀", "%", "_", "'", "\\")
OPS = ("=", "!=", "<", "<=", ">", ">=")
SEGMENT_NAMES = ("alpha", "beta", "gamma")  # gamma is never stored


def quote(text: str) -> str:
    """A string literal in segment syntax."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 32:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@dataclass(frozen=True, slots=True)
class Ctx:
    entity: Entity
    rels: tuple[Relationship, ...] = ()


@dataclass(slots=True)
class SegmentGenerator:
    schema: GraphSchema
    pools: Pools
    rng: random.Random
    size: int = 6  # predicates per segment, at most: Neo4j's planning time grows fast with it
    hops: int = 3  # longest path walked by one block
    budget: int = field(default=0)

    def segment(self) -> str:
        self.budget = self.size
        audience = self.rng.choice(self.schema.profiles)
        tz = f' timezone "{self.pools.clock.tz}"' if self.rng.random() < 0.5 else ""
        return f"segment {self.ident(audience.name)}{tz}\n{self.set_expr(audience, 0)}"

    def candidate_segment(self) -> str:
        """A conjunction whose members query may start from related records: a top-level `any`
        block over an indexed attribute (equality, `in`, between or a window) beside random
        clauses; or, a quarter of the time, the same block under `no`/`all`/`count`, or
        wrapped in `not`, which must keep the audience scan."""
        self.budget = self.size
        found = [(p, t, x) for p in self.schema.profiles for t in self.targets(p)
                 for x in t.attributes if x.indexed and x.type is not AttrType.BOOLEAN]  # fmt: skip
        audience, target, attr = self.rng.choice(found)
        via, inner = self.path(audience, target)
        tests = [self.indexed(self.ident(attr.name), attr.type)]
        if self.rng.random() < 0.6:
            tests.append(self.condition(inner, 1))
        self.rng.shuffle(tests)
        block = f"{self.ident(target.name)}{via} ({' and '.join(tests)})"
        roll = self.rng.random()
        if roll < 0.75:
            clause = f"any {block}"
        elif roll < 0.8:
            clause = f"not (any {block})"
        else:
            clause = self.rng.choice(("no ", "all ", "count ")) + block
            clause += f" >= {self.rng.randint(0, 2)}" if clause.startswith("count") else ""
        clauses = [clause] + [
            self.condition(Ctx(audience), 1) for _ in range(self.rng.randint(0, 2))
        ]
        self.rng.shuffle(clauses)
        return f"segment {self.ident(audience.name)}\nwhere " + " and ".join(clauses)

    def indexed(self, name: str, kind: AttrType) -> str:
        """A predicate an index serves: equality, `in`, between or a time window."""
        roll = self.rng.random()
        if roll < 0.3:
            return f"{name} = {self.literal(kind)}"
        if roll < 0.5:
            values = ", ".join(self.literal(kind) for _ in range(self.rng.randint(1, 3)))
            return f"{name} in ({values})"
        if roll < 0.7 or not kind.is_temporal:
            return f"{name} between {self.literal(kind)} and {self.literal(kind)}"
        window = self.rng.choice(windows(hours=kind is AttrType.DATETIME))
        return f"{name} {window_text(window)}"

    def set_expr(self, audience: Entity, depth: int) -> str:
        if depth < 2 and self.rng.random() < 0.25:
            op = self.rng.choice(("union", "intersect", "except"))
            left, right = self.set_expr(audience, depth + 1), self.set_expr(audience, depth + 1)
            return f"({left})\n{op}\n({right})"
        return "where " + self.condition(Ctx(audience), 0)

    # ---- conditions ----

    def condition(self, ctx: Ctx, depth: int) -> str:
        roll = self.rng.random()
        if depth < 2 and roll < 0.3 and self.budget > 2:
            joiner = self.rng.choice((" and ", " or "))
            items = [self.condition(ctx, depth + 1) for _ in range(self.rng.randint(2, 3))]
            return "(" + joiner.join(items) + ")"
        if depth < 3 and roll < 0.4:
            return f"not ({self.condition(ctx, depth + 1)})"
        return self.predicate(ctx, depth)

    def predicate(self, ctx: Ctx, depth: int) -> str:
        self.budget -= 1
        roll = self.rng.random()
        nested = depth < 2 and self.budget > 0
        if nested and roll < 0.15 and self.targets(ctx.entity):
            return self.related(ctx, depth)
        if nested and roll < 0.3 and self.targets(ctx.entity):
            return self.aggregate(ctx, depth)
        if roll < 0.35:
            return ("not " if self.rng.random() < 0.3 else "") + "in segment " + self.rng.choice(
                SEGMENT_NAMES)  # fmt: skip
        if nested and roll < 0.45 and self.events(ctx.entity):
            return self.sequence(ctx, depth)
        owners = [(None, ctx.entity.attributes)] + [(r, r.attributes) for r in ctx.rels]
        owner, attrs = self.rng.choice([o for o in owners if o[1]])
        attr = self.rng.choice(attrs)
        name = self.ident(attr.name) if owner is None else f"{owner.type}.{self.ident(attr.name)}"
        return self.attribute(name, attr.type)

    def ident(self, name: str) -> str:
        if name.lower() in KEYWORDS or self.rng.random() < 0.1:
            return f"`{name}`"
        return name

    # ---- related records ----

    def targets(self, entity: Entity) -> list[Entity]:
        return [
            e
            for e in self.schema.entities
            if self.schema.paths(entity.name, e.name, max_hops=self.hops)
        ]

    def path(self, origin: Entity, target: Entity) -> tuple[str, Ctx]:
        """` via A, B` when needed (or at random), and the context inside the block."""
        found = self.schema.paths(origin.name, target.name, max_hops=self.hops)
        path = self.rng.choice(found)
        shortest = [p for p in found if len(p.steps) == len(found[0].steps)]
        types = [s.relationship.type for s in path.steps]
        unique = len(shortest) == 1 and path == shortest[0]
        via = "" if unique and self.rng.random() < 0.7 else " via " + ", ".join(types)
        return via, Ctx(target, tuple(s.relationship for s in path.steps))

    def block(self, ctx: Ctx, depth: int, required: bool = False) -> str:
        if not required and self.rng.random() < 0.3:
            return ""
        return f" ({self.condition(ctx, depth + 1)})"

    def related(self, ctx: Ctx, depth: int) -> str:
        target = self.rng.choice(self.targets(ctx.entity))
        via, inner = self.path(ctx.entity, target)
        quantifier = self.rng.choice(("any", "no", "all"))
        block = self.block(inner, depth, required=quantifier == "all")
        return f"{quantifier} {self.ident(target.name)}{via}{block}"

    def aggregate(self, ctx: Ctx, depth: int) -> str:
        target = self.rng.choice(self.targets(ctx.entity))
        via, inner = self.path(ctx.entity, target)
        block, op = self.block(inner, depth), self.rng.choice(OPS)
        usable = [x for x in target.attributes if x.type is not AttrType.BOOLEAN]
        if self.rng.random() < 0.35 or not usable:
            return f"count {self.ident(target.name)}{via}{block} {op} {self.rng.randint(0, 4)}"
        attr = self.rng.choice(usable)
        funcs = ["min", "max"] + (["sum", "avg"] if attr.type.is_numeric else [])
        func = self.rng.choice(funcs)
        kind = AttrType.FLOAT if func == "avg" else attr.type
        subject = f"{self.ident(target.name)}.{self.ident(attr.name)}"
        return f"{func} {subject}{via}{block} {op} {self.literal(kind)}"

    def events(self, entity: Entity) -> list[tuple[Entity, Attribute]]:
        return [(e, x) for e in self.targets(entity) for x in e.attributes if x.type.is_temporal]

    def sequence(self, ctx: Ctx, depth: int) -> str:
        events = self.events(ctx.entity)
        first = self.rng.choice(events)
        second = self.rng.choice([e for e in events if e[1].type is first[1].type])
        quantifier = self.rng.choice(("", "any ", "no "))
        within = ""
        if self.rng.random() < 0.7:
            units = list(UNITS)
            if first[1].type is AttrType.DATETIME:
                units.append(a.TimeUnit.HOUR)
            unit = self.rng.choice(units)
            within = f" within {self.rng.choice(AMOUNTS)} {unit.value}s"
        before, after = self.event(ctx, first, depth), self.event(ctx, second, depth)
        return f"{before} then {quantifier}{after}{within}"

    def event(self, ctx: Ctx, event: tuple[Entity, Attribute], depth: int) -> str:
        entity, time = event
        via, inner = self.path(ctx.entity, entity)
        return f"{self.ident(entity.name)}.{self.ident(time.name)}{via}{self.block(inner, depth)}"

    # ---- attribute conditions ----

    def attribute(self, name: str, kind: AttrType) -> str:
        roll = self.rng.random()
        if roll < 0.08:
            return f"{name} is {self.rng.choice(('', 'not '))}empty"
        if kind is AttrType.BOOLEAN:
            return self.boolean(name)
        if roll < 0.35:
            return f"{name} {self.rng.choice(OPS)} {self.literal(kind)}"
        if roll < 0.45:
            return f"{name} between {self.literal(kind)} and {self.literal(kind)}"
        if roll < 0.55:
            values = ", ".join(self.literal(kind) for _ in range(self.rng.randint(1, 3)))
            return f"{name} {self.rng.choice(('in', 'not in'))} ({values})"
        if kind is AttrType.STRING:
            return self.text(name)
        if kind.is_temporal:
            return self.temporal(name, kind)
        return f"{name} {self.rng.choice(OPS)} {self.literal(kind)}"

    def boolean(self, name: str) -> str:
        flag = self.rng.choice(("true", "false"))
        return self.rng.choice((f"{name} is {flag}", f"{name} = {flag}", f"{name} != {flag}",
                                f"{name} in ({flag})"))  # fmt: skip

    def text(self, name: str) -> str:
        if self.rng.random() < 0.3:
            return f"{name} matches {quote(self.rng.choice(REGEXES))}"
        op = self.rng.choice(("contains", "starts with", "ends with"))
        sensitive = " case sensitive" if self.rng.random() < 0.3 else ""
        return f"{name} {op} {quote(self.rng.choice(SUBSTRINGS))}{sensitive}"

    def temporal(self, name: str, kind: AttrType) -> str:
        roll = self.rng.random()
        if roll < 0.2:
            return f"{name} {self.rng.choice(('before', 'after'))} {self.literal(kind)}"
        window = self.rng.choice(windows(hours=kind is AttrType.DATETIME))
        if kind is AttrType.DATE and roll < 0.45:
            window = self.rng.choice(windows(hours=False))
            return f"{name} anniversary {window_text(window)}"
        return f"{name} {window_text(window)}"

    def literal(self, kind: AttrType) -> str:
        rng, pools = self.rng, self.pools
        match kind:
            case AttrType.STRING:
                return quote(rng.choice(STRINGS))
            case AttrType.INTEGER:
                return str(rng.choice((-5, -1, 0, 1, 2, 2.5, 3, 7, 10, 100, 3.0)))
            case AttrType.FLOAT:
                return rng.choice(("-2.5", "0", "0.0", "0.5", "1", "2.25", "3.0", "10.5", "100"))
            case AttrType.BOOLEAN:
                return rng.choice(("true", "false"))
            case AttrType.DATE:
                if rng.random() < 0.2:
                    return self.relative(hours=False)
                return rng.choice(pools.dates).isoformat()
            case AttrType.DATETIME:
                return self.instant()

    def relative(self, hours: bool) -> str:
        units = [*UNITS, a.TimeUnit.HOUR] if hours else list(UNITS)
        direction = self.rng.choice(("ago", "from now"))
        return f"{self.rng.choice(AMOUNTS)} {self.rng.choice(units).value}s {direction}"

    def instant(self) -> str:
        """A pool instant written in UTC, with the zone's offset, naive (zone-local), as a date
        (local midnight), or relative to now."""
        roll, tz = self.rng.random(), self.pools.clock.zone
        if roll < 0.15:
            return self.relative(hours=True)
        if roll < 0.25:
            return self.rng.choice(self.pools.dates).isoformat()
        moment = self.rng.choice(self.pools.instants)
        if roll < 0.5:
            return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
        local = moment.astimezone(tz)
        if roll < 0.75:
            return local.isoformat(timespec="seconds")
        if local.fold or local.replace(fold=1).utcoffset() != local.utcoffset():
            return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"  # naive would be ambiguous
        return local.replace(tzinfo=None).isoformat(timespec="seconds")


def window_text(window: a.Window) -> str:
    match window:
        case a.DayWindow(day=day):
            return f"is {day.value}"
        case a.CalendarWindow(relation=relation, unit=unit):
            return f"in {relation.value} {unit.value}"
        case a.RollingWindow(relation=relation, amount=amount, unit=unit):
            return f"in {relation.value} {amount} {unit.value}s"
