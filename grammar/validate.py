"""AST -> bound AST: resolve every name against the schema, type every value, resolve paths.

Validation is a resolver: its output holds schema objects, never the user's strings, so the
printer cannot emit a name that was not checked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar, assert_never
from zoneinfo import ZoneInfo

from grammar import ast as a
from grammar import bound as b
from grammar import limits, timewindow
from grammar.errors import ErrorCode, SegmentError, Span, did_you_mean
from grammar.paths import resolve_path
from grammar.values import (
    Clock,
    anniversary_days,
    check_regex,
    describe,
    literal_type,
    mismatch,
    typed_value,
    window_bounds,
)
from grammar.walk import conditions_of
from graph_schema import Attribute, AttrType, Entity, GraphSchema


@dataclass(frozen=True, slots=True)
class _Context:
    schema: GraphSchema
    clock: Clock
    entity: Entity  # the record conditions talk about
    path: b.BoundPath | None = None  # the path that reached it, for relationship attributes
    allow_pii: bool = True  # False: a PII attribute in a condition is refused (no inference)


def validate_segment(
    segment: a.Segment,
    schema: GraphSchema,
    *,
    now: dt.datetime | None = None,
    timezone: str | None = None,
    allow_pii: bool = True,
) -> b.BoundSegment:
    """Bind `segment` to `schema`. `timezone` is the default when the segment declares none.
    Without `allow_pii`, conditions on attributes marked PII are refused: a caller who may not
    read an attribute must not learn its values through filters either.

    Raises SegmentError: UNKNOWN_ENTITY / UNKNOWN_ATTRIBUTE / UNKNOWN_RELATIONSHIP (with a
    suggestion), NOT_A_PROFILE, NO_PATH, AMBIGUOUS_PATH (listing candidates),
    AMBIGUOUS_TIME_ATTRIBUTE, TYPE_MISMATCH, INVALID_REGEX, UNKNOWN_TIMEZONE, LIMIT_EXCEEDED,
    NOT_PERMITTED.
    """
    audience = _audience(segment.audience, schema)
    tz_name = _timezone_name(segment, timezone)
    clock = Clock(now=timewindow.normalise_now(now), tz=_zone(tz_name, segment))
    context = _Context(schema=schema, clock=clock, entity=audience, allow_pii=allow_pii)
    _count_groups(segment.body)
    body = _set_expr(segment.body, context)
    return b.BoundSegment(
        audience=audience,
        timezone=tz_name,
        now=clock.now,
        body=body,
        referenced_segments=referenced_segments(body),
    )


def _audience(name: a.Identifier, schema: GraphSchema) -> Entity:
    entity = lookup_entity(name, schema)
    if not entity.profile:
        profiles = [e.name for e in schema.profiles]
        raise SegmentError(
            ErrorCode.NOT_A_PROFILE,
            f"{entity.name} is not an audience type; segments select one of: "
            f"{', '.join(profiles)}.",
            name.span,
            candidates=profiles,
        )
    return entity


def _timezone_name(segment: a.Segment, default: str | None) -> str:
    return segment.timezone.value if segment.timezone else default or "UTC"


def _zone(name: str, segment: a.Segment) -> ZoneInfo:
    try:
        return timewindow.zone(name)
    except ValueError:
        span = segment.timezone.span if segment.timezone else segment.span
        raise SegmentError(
            ErrorCode.UNKNOWN_TIMEZONE,
            f'Unknown time zone "{name}"; use an IANA name such as "Europe/Paris".',
            span,
        ) from None


def lookup_entity(name: a.Identifier, schema: GraphSchema) -> Entity:
    entity = schema.entity(name.name)
    if entity is None:
        names = [e.name for e in schema.entities]
        raise SegmentError(
            ErrorCode.UNKNOWN_ENTITY,
            f"Unknown entity `{name.name}`.",
            name.span,
            suggestion=did_you_mean(name.name, names),
            candidates=names,
        )
    return entity


def _count_groups(body: a.SetExpr) -> None:
    count, stack = 0, [body]
    while stack:
        node = stack.pop()
        if isinstance(node, a.SetOperation):
            stack += [node.left, node.right]
        elif (count := count + 1) > limits.MAX_GROUPS:
            raise limits.exceeded("groups", limits.MAX_GROUPS, node.span)


def _set_expr(node: a.SetExpr, context: _Context) -> b.BoundSetExpr:
    match node:
        case a.Group():
            return b.BoundGroup(condition=condition(node.condition, context))
        case a.SetOperation():
            left, right = _every(lambda n: _set_expr(n, context), (node.left, node.right))
            return b.BoundSetOperation(op=node.op, left=left, right=right)
        case _:
            assert_never(node)


_In = TypeVar("_In")
_Out = TypeVar("_Out")


def _every(bind: Callable[[_In], _Out], items: Sequence[_In]) -> tuple[_Out, ...]:
    """Bind every item, so that independent mistakes are reported together: the first one
    raised, the others in its `more`."""
    bound, errors = [], []
    for item in items:
        try:
            bound.append(bind(item))
        except SegmentError as exc:
            errors.append(exc)
    if errors:
        raise errors[0].with_more(errors[1:])
    return tuple(bound)


def condition(node: a.Condition, context: _Context) -> b.BoundCondition:
    """Bind one condition; errors raised deep inside get this node's span if they have none."""
    try:
        return _condition(node, context)
    except SegmentError as exc:
        raise exc.with_span(node.span) from None


def _condition(node: a.Condition, context: _Context) -> b.BoundCondition:
    match node:
        case a.And(items=items):
            return b.BoundAnd(items=_every(lambda i: condition(i, context), items))
        case a.Or(items=items):
            return b.BoundOr(items=_every(lambda i: condition(i, context), items))
        case a.Not(item=item):
            return b.BoundNot(item=condition(item, context))
        case a.InSegment(name=name):
            return b.BoundSegmentRef(name=name.name)
        case a.Related():
            return _related(node, context)
        case a.Aggregate():
            return _aggregate(node, context)
        case a.Sequence():
            return _sequence(node, context)
        case _:
            return _attribute_condition(node, context)


def _attribute_condition(node: a.Predicate, context: _Context) -> b.BoundCondition:
    clock = context.clock
    match node:
        case a.Comparison(attribute=attr, op=op, value=value):
            prop = bind_property(attr, context)
            if prop.type is AttrType.BOOLEAN and op not in (a.CompareOp.EQ, a.CompareOp.NE):
                raise mismatch(
                    describe(prop), "boolean", f"an ordering comparison ({op.value})", node.span
                )
            return b.BoundCompare(
                prop=prop, op=op, value=typed_value(value, prop.type, describe(prop), clock)
            )
        case a.Between(attribute=attr, low=low, high=high):
            prop = bind_property(attr, context)
            if prop.type is AttrType.BOOLEAN:
                raise mismatch(describe(prop), "orderable value", "a boolean", node.span)
            what = describe(prop)
            low_v, high_v = (typed_value(v, prop.type, what, clock) for v in (low, high))
            return b.BoundBetween(prop=prop, low=low_v, high=high_v)
        case a.InList(attribute=attr, values=values, negated=negated):
            prop = bind_property(attr, context)
            typed = tuple(typed_value(v, prop.type, describe(prop), clock) for v in values)
            return b.BoundInList(prop=prop, values=typed, negated=negated)
        case a.TextMatch(attribute=attr, op=op, value=value, case_sensitive=sensitive):
            prop = _string_property(attr, context, op.value)
            return b.BoundText(prop=prop, op=op, value=value.value, case_sensitive=sensitive)
        case a.RegexMatch(attribute=attr, pattern=pattern):
            prop = _string_property(attr, context, "matches")
            return b.BoundRegex(prop=prop, pattern=check_regex(pattern))
        case a.IsEmpty(attribute=attr, negated=negated):
            return b.BoundIsEmpty(prop=bind_property(attr, context), negated=negated)
        case a.IsBoolean(attribute=attr, value=flag):
            prop = bind_property(attr, context)
            if prop.type is not AttrType.BOOLEAN:
                raise mismatch(describe(prop), prop.type, f"`is {str(flag).lower()}`", node.span)
            return b.BoundCompare(prop=prop, op=a.CompareOp.EQ, value=flag)
        case a.InWindow(attribute=attr, window=window):
            prop = bind_property(attr, context)
            start, end = window_bounds(window, prop, describe(prop), clock)
            return b.BoundWindow(prop=prop, start=start, end=end)
        case a.Anniversary(attribute=attr, window=window):
            prop = bind_property(attr, context)
            days = anniversary_days(window, prop, describe(prop), clock)
            return b.BoundAnniversary(prop=prop, month_days=days)
    raise AssertionError(f"unhandled condition {type(node).__name__}")


def _string_property(attr: a.Dotted, context: _Context, op: str) -> b.BoundProperty:
    prop = bind_property(attr, context)
    if prop.type is not AttrType.STRING:
        raise mismatch(describe(prop), prop.type, f"a text operator ({op})", attr.span)
    return prop


def bind_property(attr: a.Dotted, context: _Context) -> b.BoundProperty:
    """An attribute of the current record, or `REL.attr` of a relationship on its path."""
    entity = context.entity
    if attr.qualifier is None or attr.qualifier.name.casefold() == entity.name.casefold():
        found = entity.attribute(attr.name.name)
        if found is None:
            raise _unknown_attribute(attr.name, entity.name, [x.name for x in entity.attributes])
        _check_permitted(found, entity.name, attr.span, context)
        return b.BoundProperty(attribute=found, entity=entity)
    return _relationship_property(attr, attr.qualifier, context)


def _relationship_property(
    attr: a.Dotted, qualifier: a.Identifier, context: _Context
) -> b.BoundProperty:
    steps = context.path.steps if context.path else ()
    for index, step in enumerate(steps):
        if step.relationship.type.casefold() == qualifier.name.casefold():
            rel = step.relationship
            found = rel.attribute(attr.name.name)
            if found is None:
                raise _unknown_attribute(attr.name, rel.type, [x.name for x in rel.attributes])
            _check_permitted(found, rel.type, attr.span, context)
            return b.BoundProperty(
                attribute=found, entity=context.entity, step=index, relationship=rel
            )
    if context.schema.entity(qualifier.name) is not None:
        raise SegmentError(
            ErrorCode.UNKNOWN_ATTRIBUTE,
            f"Conditions on related {qualifier.name} records go in a block, e.g. "
            f"`any {qualifier.name} ({attr.name.name} ...)`.",
            attr.span,
        )
    names = [s.relationship.type for s in steps]
    raise SegmentError(
        ErrorCode.UNKNOWN_RELATIONSHIP,
        f"`{qualifier.name}` is not a relationship on the path to {context.entity.name}.",
        qualifier.span,
        suggestion=did_you_mean(qualifier.name, names),
        candidates=names,
    )


def _check_permitted(
    attribute: Attribute, owner: str, span: Span | None, context: _Context
) -> None:
    if attribute.pii and not context.allow_pii:
        raise SegmentError(
            ErrorCode.NOT_PERMITTED,
            f"{owner}.{attribute.name} is personal data (PII); your role may not filter on it.",
            span,
        )


def _unknown_attribute(name: a.Identifier, owner: str, names: list[str]) -> SegmentError:
    return SegmentError(
        ErrorCode.UNKNOWN_ATTRIBUTE,
        f"{owner} has no attribute `{name.name}`.",
        name.span,
        suggestion=did_you_mean(name.name, names),
        candidates=names,
    )


def _inner(
    target: a.Identifier, via: tuple[a.Identifier, ...], context: _Context
) -> tuple[b.BoundPath, _Context]:
    entity = lookup_entity(target, context.schema)
    path = resolve_path(context.schema, context.entity, entity, via, target.span)
    return path, replace(context, entity=entity, path=path)


def _block(node: a.Condition | None, context: _Context) -> b.BoundCondition | None:
    return None if node is None else condition(node, context)


def _related(node: a.Related, context: _Context) -> b.BoundRelated:
    path, inner = _inner(node.entity, node.via, context)
    bound = _block(node.condition, inner)
    return b.BoundRelated(quantifier=node.quantifier, path=path, condition=bound)


def _aggregate(node: a.Aggregate, context: _Context) -> b.BoundAggregate:
    path, inner = _inner(node.entity, node.via, context)
    bound = _block(node.condition, inner)
    if node.attribute is None:
        return _count(node, path, bound)
    prop = bind_property(a.Dotted(name=node.attribute, span=node.attribute.span), inner)
    result_type = _aggregate_type(node.func, prop)
    value = typed_value(
        node.value, result_type, f"{node.func.value} of {describe(prop)}", context.clock
    )
    return b.BoundAggregate(
        func=node.func, path=path, prop=prop, condition=bound, op=node.op, value=value
    )


def _count(
    node: a.Aggregate, path: b.BoundPath, bound: b.BoundCondition | None
) -> b.BoundAggregate:
    value = node.value
    if not isinstance(value, a.NumberLiteral) or not isinstance(value.value, int):
        raise mismatch("A count", "integer", _literal_article(value), value.span)
    return b.BoundAggregate(
        func=a.AggFunc.COUNT, path=path, prop=None, condition=bound, op=node.op, value=value.value
    )


def _literal_article(value: a.Literal) -> str:
    name = literal_type(value)
    return ("an " if name[0] in "aeiou" else "a ") + name


def _aggregate_type(func: a.AggFunc, prop: b.BoundProperty) -> AttrType:
    if func in (a.AggFunc.SUM, a.AggFunc.AVG) and not prop.type.is_numeric:
        raise mismatch(describe(prop), "number", f"a {func.value}", None)
    if prop.type is AttrType.BOOLEAN:
        raise mismatch(describe(prop), "orderable value", "a boolean", None)
    return AttrType.FLOAT if func is a.AggFunc.AVG else prop.type


def _sequence(node: a.Sequence, context: _Context) -> b.BoundSequence:
    first, second = _event(node.first, context), _event(node.second, context)
    if first.time.type is not second.time.type:
        raise mismatch(
            describe(second.time), first.time.type, f"a {second.time.type.value}", node.span
        )
    within = None
    if node.within is not None:
        if node.within.unit is a.TimeUnit.HOUR and first.time.type is AttrType.DATE:
            raise mismatch(describe(first.time), AttrType.DATE, "a span in hours", node.within.span)
        within = b.BoundSpan(amount=node.within.amount, unit=node.within.unit)
    return b.BoundSequence(first=first, quantifier=node.quantifier, second=second, within=within)


def _event(node: a.Event, context: _Context) -> b.BoundEvent:
    path, inner = _inner(node.entity, node.via, context)
    time = _time_property(node, inner)
    return b.BoundEvent(path=path, time=time, condition=_block(node.condition, inner))


def _time_property(node: a.Event, context: _Context) -> b.BoundProperty:
    entity = context.entity
    if node.time is not None:
        prop = bind_property(a.Dotted(name=node.time, span=node.time.span), context)
        if not prop.type.is_temporal:
            raise mismatch(describe(prop), "date or datetime", "an event time", node.time.span)
        return prop
    temporal = [x for x in entity.attributes if x.type is AttrType.DATETIME]
    temporal = temporal or [x for x in entity.attributes if x.type is AttrType.DATE]
    if len(temporal) != 1:
        names = [x.name for x in temporal]
        example = names[0] if names else "at"
        raise SegmentError(
            ErrorCode.AMBIGUOUS_TIME_ATTRIBUTE,
            f"Name the time attribute of {entity.name}, e.g. `{entity.name}.{example}`; "
            f"candidates: {', '.join(names) or 'none'}.",
            node.entity.span,
            candidates=names,
        )
    _check_permitted(temporal[0], entity.name, node.entity.span, context)
    return b.BoundProperty(attribute=temporal[0], entity=entity)


def referenced_segments(body: b.BoundSetExpr) -> tuple[str, ...]:
    """Distinct names of the stored segments the body reads, sorted."""
    names = {c.name for c in conditions_of(body) if isinstance(c, b.BoundSegmentRef)}
    return tuple(sorted(names))
