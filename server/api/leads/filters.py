"""The `leads` filters that name schema objects, resolved here from the schema so no user
text reaches Cypher: the owner (an attribute of the lead, or of the entity one to-one step
away) and the audience (a segment of the model's entity, read at its active version)."""

from __future__ import annotations

from typing import Any

from graph_schema.model import AttrType, Cardinality, Entity, GraphSchema
from server.api.common import decode_gid
from server.api.context import Deps
from server.api.errors import ApiError, ErrorCode
from server.leads.reads import Audience, Owner
from server.store.segments import get_segments

TO_ONE_FORWARD = (Cardinality.MANY_TO_ONE, Cardinality.ONE_TO_ONE)
TO_ONE_BACKWARD = (Cardinality.ONE_TO_MANY, Cardinality.ONE_TO_ONE)
DEFAULT_OWNER_FIELD = "owner"


def _bad(message: str) -> ApiError:
    return ApiError(ErrorCode.BAD_USER_INPUT, message)


def resolve_owner(deps: Deps, entity: Entity, owner_field: str, value: str) -> Owner:
    """`ownerField` names `attribute` (the lead's) or `Entity.attribute` (one to-one step
    away). Raises ApiError(BAD_USER_INPUT) naming the argument at fault."""
    schema: GraphSchema = deps.schema
    target_name, _, attr_name = owner_field.rpartition(".")
    target = entity if not target_name else schema.entity(target_name)
    if target is None:
        raise _bad(f"ownerField: no entity {target_name!r}")
    attr = target.attribute(attr_name)
    if attr is None:
        raise _bad(f"ownerField: {target.name} has no attribute {attr_name!r}")
    if attr.pii and not deps.principal.reads_pii:
        raise _bad(f"ownerField: {target.name}.{attr.name} is personal data (needs READ_PII)")
    converted = _value(attr.type, value)
    if target is entity:
        return Owner(attribute=attr, value=converted)
    steps = [(r, True) for r in schema.relationships
             if r.source == entity.name and r.target == target.name
             and r.cardinality in TO_ONE_FORWARD]  # fmt: skip
    steps += [(r, False) for r in schema.relationships
              if r.target == entity.name and r.source == target.name
              and r.cardinality in TO_ONE_BACKWARD]  # fmt: skip
    if len(steps) != 1:
        how = "no" if not steps else "more than one"
        raise _bad(f"ownerField: {how} to-one relationship from {entity.name} to {target.name}")
    rel, outgoing = steps[0]
    return Owner(attribute=attr, value=converted, relationship=rel, outgoing=outgoing,
                 target=target)  # fmt: skip


def _value(kind: AttrType, value: str) -> Any:
    if kind is AttrType.STRING:
        return value
    if kind is AttrType.INTEGER:
        try:
            return int(value)
        except ValueError:
            raise _bad(f"owner: {value!r} is not an integer") from None
    raise _bad(f"ownerField: an owner is a string or integer attribute, not {kind}")


async def resolve_audience(deps: Deps, entity: Entity, audience: str) -> Audience:
    """A segment of the model's entity. Raises ApiError(BAD_USER_INPUT)."""
    segment_id = decode_gid(audience, "Segment")
    found = (await get_segments(deps.db, [segment_id]))[0] if segment_id else None
    if found is None:
        raise _bad("audience: no such segment")
    if found.audience != entity.name:
        raise _bad(f"audience: a segment of {found.audience}; the model scores {entity.name}")
    return Audience(segment_id=found.id, version=found.active_version)
