"""Hypothesis strategies: well-typed segment trees for any schema, and hostile strings."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from grammar import ast as a
from graph_schema import Attribute, AttrType, Entity, GraphSchema

HOSTILE = [
    '"', "'", "`", "\u0060", "``", "\\", "//", "/*", "*/", ";", "\n", "\r\n", "\x00", "}]->(",
    "})-[:HACK]->(n) DETACH DELETE n //", "CALL dbms.security.listUsers()", "DETACH DELETE n",
    "$p0", "${x}", "' OR 1=1 --", '" OR true //', "\u2028", "é", "𝕏",
]  # fmt: skip

MARK_OPEN, MARK_CLOSE = "⟦", "⟧"  # never part of any Cypher the printer writes

hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(max_size=6)), min_size=1, max_size=4
).map(lambda parts: MARK_OPEN + "".join(parts) + MARK_CLOSE)

plain_text = st.text(alphabet="abcdefxyz ABC-/_.@0123", max_size=8)


def ident(name: str) -> a.Identifier:
    return a.Identifier(name=name)


def dotted(attribute: Attribute) -> a.Dotted:
    return a.Dotted(name=ident(attribute.name))


units = st.sampled_from([a.TimeUnit.DAY, a.TimeUnit.WEEK, a.TimeUnit.MONTH, a.TimeUnit.YEAR])
periods = st.sampled_from([a.TimeUnit.WEEK, a.TimeUnit.MONTH, a.TimeUnit.QUARTER, a.TimeUnit.YEAR])
windows: st.SearchStrategy[a.Window] = st.one_of(
    st.builds(
        a.RollingWindow,
        relation=st.sampled_from([a.Relation.LAST, a.Relation.NEXT]),
        amount=st.integers(0, 500),
        unit=units,
    ),
    st.builds(a.CalendarWindow, relation=st.sampled_from(list(a.Relation)), unit=periods),
    st.builds(a.DayWindow, day=st.sampled_from(list(a.Day))),
)
dates = st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1))
datetimes = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1))
compare_ops = st.sampled_from(list(a.CompareOp))


def literals(kind: AttrType, strings: st.SearchStrategy[str]) -> st.SearchStrategy[a.Literal]:
    """Values a `kind` attribute can be compared with."""
    match kind:
        case AttrType.STRING:
            return st.builds(a.StringLiteral, value=strings)
        case AttrType.INTEGER:
            return st.builds(a.NumberLiteral, value=st.integers(-(10**9), 10**9))
        case AttrType.FLOAT:
            finite = st.floats(-1e9, 1e9, allow_nan=False).map(lambda f: round(f, 3))
            return st.builds(a.NumberLiteral, value=st.one_of(finite, st.integers(-1000, 1000)))
        case AttrType.BOOLEAN:
            return st.builds(a.BooleanLiteral, value=st.booleans())
        case AttrType.DATE:
            return st.one_of(
                st.builds(a.DateLiteral, value=dates),
                st.builds(
                    a.RelativeLiteral, amount=st.integers(0, 400), unit=units, future=st.booleans()
                ),
            )
        case AttrType.DATETIME:
            return st.one_of(
                st.builds(a.DateTimeLiteral, value=datetimes),
                st.builds(a.DateLiteral, value=dates),
            )


def attribute_conditions(
    entity: Entity, strings: st.SearchStrategy[str]
) -> st.SearchStrategy[a.Condition]:
    @st.composite
    def build(draw: st.DrawFn) -> a.Condition:
        attribute = draw(st.sampled_from(entity.attributes))
        target, kind = dotted(attribute), attribute.type
        options: list[st.SearchStrategy[a.Condition]] = [
            st.builds(a.IsEmpty, attribute=st.just(target), negated=st.booleans()),
            st.builds(
                a.InList,
                attribute=st.just(target),
                values=st.lists(literals(kind, strings), min_size=1, max_size=3).map(tuple),
                negated=st.booleans(),
            ),
        ]
        ops = (
            compare_ops
            if kind is not AttrType.BOOLEAN
            else st.sampled_from([a.CompareOp.EQ, a.CompareOp.NE])
        )
        options.append(
            st.builds(
                a.Comparison, attribute=st.just(target), op=ops, value=literals(kind, strings)
            )
        )
        if kind is AttrType.STRING:
            options.append(
                st.builds(
                    a.TextMatch,
                    attribute=st.just(target),
                    op=st.sampled_from(list(a.TextOp)),
                    value=st.builds(a.StringLiteral, value=strings),
                    case_sensitive=st.booleans(),
                )
            )
        if kind is AttrType.BOOLEAN:
            options.append(st.builds(a.IsBoolean, attribute=st.just(target), value=st.booleans()))
        if kind.is_temporal:
            options.append(st.builds(a.InWindow, attribute=st.just(target), window=windows))
        if kind is AttrType.DATE:
            options.append(st.builds(a.Anniversary, attribute=st.just(target), window=windows))
        return draw(st.one_of(options))

    return build()


_REACHABLE: dict[tuple[int, str], list[Entity]] = {}
_CONDITIONS: dict[tuple[int, str, int, int], st.SearchStrategy[a.Condition]] = {}


def reachable(schema: GraphSchema, entity: Entity) -> list[Entity]:
    """Entities with a unique shortest path from `entity` (no `via` needed); memoised, as the
    schemas are module constants and path enumeration is slow."""
    key = (id(schema), entity.name)
    if key not in _REACHABLE:
        _REACHABLE[key] = _reachable(schema, entity)
    return _REACHABLE[key]


def _reachable(schema: GraphSchema, entity: Entity) -> list[Entity]:
    found = []
    for other in schema.entities:
        paths = schema.paths(entity.name, other.name, max_hops=3)
        if paths and (len(paths) == 1 or len(paths[1].steps) > len(paths[0].steps)):
            found.append(other)
    return found


def conditions(
    schema: GraphSchema, entity: Entity, strings: st.SearchStrategy[str], depth: int = 2
) -> st.SearchStrategy[a.Condition]:
    key = (id(schema), entity.name, id(strings), depth)
    if key not in _CONDITIONS:
        _CONDITIONS[key] = _conditions(schema, entity, strings, depth)
    return _CONDITIONS[key]


def _conditions(
    schema: GraphSchema, entity: Entity, strings: st.SearchStrategy[str], depth: int
) -> st.SearchStrategy[a.Condition]:
    leaves: list[st.SearchStrategy[a.Condition]] = [attribute_conditions(entity, strings)]
    leaves.append(
        st.builds(
            a.InSegment,
            name=st.builds(ident, st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)),
        )
    )
    related = reachable(schema, entity)
    if related and depth > 0:
        leaves.append(_related(schema, related, strings, depth))
        leaves.append(_aggregates(schema, related, strings, depth))
    base = st.one_of(leaves)
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.builds(a.And, items=st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(a.Or, items=st.lists(inner, min_size=2, max_size=3).map(tuple)),
            st.builds(a.Not, item=inner),
        ),
        max_leaves=6,
    )


def _related(
    schema: GraphSchema, related: list[Entity], strings: st.SearchStrategy[str], depth: int
) -> st.SearchStrategy[a.Condition]:
    @st.composite
    def build(draw: st.DrawFn) -> a.Condition:
        target = draw(st.sampled_from(related))
        inner = draw(st.none() | conditions(schema, target, strings, depth - 1))
        quantifier = draw(st.sampled_from(list(a.Quantifier)))
        if quantifier is a.Quantifier.ALL and inner is None:
            quantifier = a.Quantifier.ANY
        return a.Related(quantifier=quantifier, entity=ident(target.name), condition=inner)

    return build()


def _aggregates(
    schema: GraphSchema, related: list[Entity], strings: st.SearchStrategy[str], depth: int
) -> st.SearchStrategy[a.Condition]:
    @st.composite
    def build(draw: st.DrawFn) -> a.Condition:
        target = draw(st.sampled_from(related))
        inner = draw(st.none() | conditions(schema, target, strings, depth - 1))
        numeric = [x for x in target.attributes if x.type.is_numeric]
        op = draw(compare_ops)
        use_attribute = draw(st.booleans())
        if numeric and use_attribute:
            attribute = draw(st.sampled_from(numeric))
            func = draw(
                st.sampled_from([a.AggFunc.SUM, a.AggFunc.AVG, a.AggFunc.MIN, a.AggFunc.MAX])
            )
            value = a.NumberLiteral(value=draw(st.integers(-100, 10_000)))
            if func is not a.AggFunc.AVG and attribute.type is AttrType.FLOAT:
                value = a.NumberLiteral(value=float(value.value))
            return a.Aggregate(
                func=func, entity=ident(target.name), attribute=ident(attribute.name),
                condition=inner, op=op, value=value,
            )  # fmt: skip
        count = a.NumberLiteral(value=draw(st.integers(0, 20)))
        return a.Aggregate(
            func=a.AggFunc.COUNT, entity=ident(target.name), attribute=None,
            condition=inner, op=op, value=count,
        )  # fmt: skip

    return build()


def segments(
    schema: GraphSchema, strings: st.SearchStrategy[str] = plain_text
) -> st.SearchStrategy[a.Segment]:
    @st.composite
    def build(draw: st.DrawFn) -> a.Segment:
        audience = draw(st.sampled_from(schema.profiles))
        groups = conditions(schema, audience, strings).map(lambda c: a.Group(condition=c))
        body: a.SetExpr = draw(groups)
        for _ in range(draw(st.integers(0, 2))):
            op = draw(st.sampled_from(list(a.SetOp)))
            body = a.SetOperation(op=op, left=body, right=draw(groups))
        tz = draw(st.sampled_from([None, "UTC", "Europe/Paris", "America/New_York"]))
        zone = None if tz is None else a.StringLiteral(value=tz)
        return a.Segment(audience=ident(audience.name), timezone=zone, body=body)

    return build()
