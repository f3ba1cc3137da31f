"""JSON records -> validated upserts, with an error per record and field otherwise.

A record: `{"entity": "Order", "key": "o1", "properties": {...}, "links": [{"entity":
"Customer", "key": "c1", "relationship": "PLACED"}]}`; the event-tracking forms map onto it:
`identify` is an upsert of a profile (`traits` for `properties`), `track` an upsert of an
interaction linked to its profile (`profile: {entity, key}`), and `delete` (`{"type": "delete",
"entity": "Order", "key": "o1"}`) removes a record with its relationships. A link's
relationship may be left out when the schema has exactly one between the two entities.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from graph_schema import AttrType, Entity, GraphSchema, Relationship
from graph_schema.convert import to_date, to_datetime
from server.live.records import Delete, Link, RecordError, Upsert, Validated

MAX_BATCH = 5_000
CODE_INVALID = "INVALID_RECORD"
CODE_UNKNOWN_ENTITY = "UNKNOWN_ENTITY"
CODE_UNKNOWN_ATTRIBUTE = "UNKNOWN_ATTRIBUTE"
CODE_TYPE = "TYPE_MISMATCH"
CODE_UNKNOWN_RELATIONSHIP = "UNKNOWN_RELATIONSHIP"


class _Bad(Exception):
    def __init__(self, field: tuple[str, ...], code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message
        self.more: list[_Bad] = []  # other mistakes of the same record, in the record's order


def _all(checks: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run every check, so that a record's independent mistakes (an attribute's type, another
    attribute's name, a link) come back together: the first raised, the rest in its `more`."""
    found, bad = [], []
    for check in checks:
        try:
            found.append(check())
        except _Bad as exc:
            bad.append(exc)
    if bad:
        bad[0].more = bad[1:]
        raise bad[0]
    return found


def validate_records(schema: GraphSchema, records: Sequence[Any]) -> Validated:
    """Every record checked; the valid ones converted to schema types."""
    found = Validated()
    if len(records) > MAX_BATCH:
        message = f"at most {MAX_BATCH} records a batch"
        found.errors.append(RecordError(0, (), "LIMIT_EXCEEDED", message))
        return found
    for index, raw in enumerate(records):
        try:
            record = _record(schema, index, raw)
            if isinstance(record, Delete):
                found.deletes.append(record)
            else:
                found.upserts.append(record)
        except _Bad as bad:
            found.errors += [RecordError(index, b.field, b.code, b.message)
                             for b in (bad, *bad.more)]  # fmt: skip
    return found


def _record(schema: GraphSchema, index: int, raw: Any) -> Upsert | Delete:
    if not isinstance(raw, Mapping):
        raise _Bad((), CODE_INVALID, "a record is a JSON object")
    kind = raw.get("type", "upsert")
    if kind not in ("upsert", "identify", "track", "delete"):
        raise _Bad(("type",), CODE_INVALID, "type is upsert, identify, track or delete")
    entity = _entity(schema, raw.get("entity"), ("entity",))
    if kind == "identify" and not entity.profile:
        raise _Bad(("entity",), CODE_INVALID, f"identify takes a profile; {entity.name} is not")
    key = _value(entity, entity.key, raw.get("key"), ("key",))
    if key is None:
        raise _Bad(("key",), CODE_INVALID, f"the {entity.key} of the {entity.name} is required")
    if kind == "delete":
        extra = sorted(set(raw) - {"type", "entity", "key"})
        if extra:
            raise _Bad((extra[0],), CODE_INVALID, "a delete names only the entity and the key")
        return Delete(index=index, entity=entity, key=key)
    props_field = "traits" if kind == "identify" else "properties"
    props = raw.get(props_field, raw.get("properties", {})) or {}
    if not isinstance(props, Mapping):
        raise _Bad((props_field,), CODE_INVALID, "an object of attribute values")
    named = [name for name in props if name != entity.key]
    checks = [partial(_value, entity, name, props[name], (props_field, name)) for name in named]
    checks += [partial(_link, schema, entity, link, ("links", str(i)))
               for i, link in enumerate(raw.get("links", []) or [])]  # fmt: skip
    if kind == "track":
        checks.append(partial(_profile, schema, entity, raw.get("profile")))
    checked = _all(checks)
    values = dict(zip(named, checked[: len(named)], strict=True))
    links = tuple(checked[len(named) :])
    return Upsert(index=index, entity=entity, key=key, values=values, links=links)


def _profile(schema: GraphSchema, entity: Entity, raw: Any) -> Link:
    if not isinstance(raw, Mapping):
        raise _Bad(("profile",), CODE_INVALID, "track needs profile: {entity, key}")
    return _link(schema, entity, raw, ("profile",))


def _entity(schema: GraphSchema, name: Any, field: tuple[str, ...]) -> Entity:
    found = schema.entity(name) if isinstance(name, str) else None
    if found is None:
        raise _Bad(field, CODE_UNKNOWN_ENTITY, f"no entity {name!r} in the graph schema")
    return found


def _value(entity: Entity, name: str, value: Any, field: tuple[str, ...]) -> Any:
    attribute = entity.attribute(name)
    if attribute is None or attribute.name != name:
        raise _Bad(field, CODE_UNKNOWN_ATTRIBUTE, f"{entity.name} has no attribute {name!r}")
    if value is None:
        return None
    kind = attribute.type
    ok = {
        AttrType.STRING: isinstance(value, str),
        AttrType.INTEGER: isinstance(value, int) and not isinstance(value, bool),
        AttrType.FLOAT: isinstance(value, int | float) and not isinstance(value, bool),
        AttrType.BOOLEAN: isinstance(value, bool),
        AttrType.DATE: isinstance(value, str),
        AttrType.DATETIME: isinstance(value, str),
    }[kind]
    if not ok:
        raise _Bad(field, CODE_TYPE, f"{entity.name}.{name} is {kind.value.lower()}")
    try:
        if kind is AttrType.DATE:
            return to_date(value)
        if kind is AttrType.DATETIME:
            return to_datetime(value)
    except ValueError as exc:
        raise _Bad(field, CODE_TYPE, str(exc)) from None
    if kind is AttrType.FLOAT:
        if not math.isfinite(float(value)):
            raise _Bad(field, CODE_TYPE, "not a finite number")
        return float(value) + 0.0
    return value


def _link(schema: GraphSchema, entity: Entity, raw: Any, field: tuple[str, ...]) -> Link:
    if not isinstance(raw, Mapping):
        raise _Bad(field, CODE_INVALID, "a link is {entity, key, relationship?}")
    other = _entity(schema, raw.get("entity"), (*field, "entity"))
    key = _value(other, other.key, raw.get("key"), (*field, "key"))
    if key is None:
        raise _Bad((*field, "key"), CODE_INVALID, "a link needs the other record's key")
    candidates = _relationships(schema, entity, other)
    wanted = raw.get("relationship")
    if wanted is not None:
        candidates = [r for r in candidates if r.type.casefold() == str(wanted).casefold()]
    if len(candidates) != 1:
        names = ", ".join(r.type for r in _relationships(schema, entity, other)) or "none"
        message = f"name one relationship between {entity.name} and {other.name} ({names})"
        raise _Bad((*field, "relationship"), CODE_UNKNOWN_RELATIONSHIP, message)
    rel = candidates[0]
    outgoing = rel.source == entity.name
    return Link(relationship=rel, other=other, other_key=key, outgoing=outgoing, at=field)


def _relationships(schema: GraphSchema, a: Entity, b: Entity) -> list[Relationship]:
    return [
        r for r in schema.relationships
        if {r.source, r.target} == {a.name, b.name} and (r.source, r.target) in (
            (a.name, b.name), (b.name, a.name))
    ]  # fmt: skip
