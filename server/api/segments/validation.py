"""Pure checks of mutation inputs; each returns the problems found (empty when fine)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from graph_schema.model import AttrType, Entity, GraphSchema
from server.api.errors import Problem, UserErrorCode
from server.store.records import ScheduleKind, SegmentRecord, SegmentType

Field = tuple[str, ...]
Code = UserErrorCode

# Names appear in other segments' definitions (`in segment high_value`): identifier-like, no
# spaces, like the reference product's name rule.
SEGMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
TAG = re.compile(r"^[^\x00-\x1f]{1,40}$")
CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,\-?LW#]+$")
MAX_TAGS = 20
MAX_TEXT = 2000


def check_name(name: str, field: Field) -> list[Problem]:
    if SEGMENT_NAME.match(name):
        return []
    message = "a name starts with a letter and holds only letters, digits and _ (max 64)"
    return [Problem(Code.INVALID_NAME, field, message)]


def check_text(value: str, field: Field, limit: int = MAX_TEXT) -> list[Problem]:
    if len(value) <= limit:
        return []
    return [Problem(Code.INVALID_VALUE, field, f"at most {limit} characters")]


def check_audience(schema: GraphSchema, audience: str, field: Field) -> list[Problem]:
    entity = schema.entity(audience)
    if entity is not None and entity.profile:
        return []
    choices = ", ".join(e.name for e in schema.profiles)
    return [Problem(Code.UNKNOWN_AUDIENCE, field, f"audience must be one of: {choices}")]


def check_type(kind: SegmentType, field: Field) -> list[Problem]:
    if kind is not SegmentType.EXPANSION:
        return []
    message = "expansion segments are created from a source segment by the scoring engine"
    return [Problem(Code.UNSUPPORTED_TYPE, field, message)]


def check_not_split_group(seg: SegmentRecord, field: Field, action: str) -> list[Problem]:
    """A split group's members come from its split: it cannot be redefined, made static,
    duplicated or split again."""
    if seg.split_group is None:
        return []
    message = f"{seg.name} is a group of a split; it cannot be {action}"
    return [Problem(Code.SPLIT_GROUP, field, message)]


def check_timezone(timezone: str, field: Field) -> list[Problem]:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return [Problem(Code.INVALID_TIMEZONE, field, "not an IANA time zone such as UTC")]
    return []


def check_schedule(
    kind: SegmentType, schedule: ScheduleKind, cron: str | None, field: Field
) -> list[Problem]:
    if kind is SegmentType.STATIC and schedule is not ScheduleKind.MANUAL:
        message = "static segments refresh only when asked (schedule MANUAL)"
        return [Problem(Code.INVALID_SCHEDULE, (*field, "kind"), message)]
    if schedule is not ScheduleKind.CRON:
        if cron:
            return [Problem(Code.INVALID_SCHEDULE, (*field, "cron"), "cron needs kind CRON")]
        return []
    parts = (cron or "").split()
    if len(parts) != 5 or not all(CRON_FIELD.match(p) for p in parts):
        message = "a cron expression has five fields: minute hour day month weekday"
        return [Problem(Code.INVALID_SCHEDULE, (*field, "cron"), message)]
    return []


def normalize_tags(tags: list[str], field: Field) -> tuple[tuple[str, ...], list[Problem]]:
    """Trimmed, de-duplicated (first spelling wins, ignoring case), checked tags."""
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for i, raw in enumerate(tags):
        tag = raw.strip()
        if not TAG.match(tag):
            problems.append(Problem(Code.INVALID_TAG, (*field, str(i)), "1 to 40 characters"))
        seen.setdefault(tag.casefold(), tag)
    if len(seen) > MAX_TAGS:
        problems.append(Problem(Code.LIMIT_EXCEEDED, field, f"at most {MAX_TAGS} tags"))
    return tuple(seen.values()), problems


def convert_keys(
    entity: Entity, keys: list[str], field: Field
) -> tuple[list[str | int], list[Problem]]:
    """Profile keys in the key attribute's type (integers for integer keys), de-duplicated."""
    if entity.key_attribute.type is not AttrType.INTEGER:
        return list(dict.fromkeys(keys)), []
    converted: list[str | int] = []
    problems: list[Problem] = []
    for i, key in enumerate(keys):
        try:
            converted.append(int(key))
        except ValueError:
            problems.append(Problem(Code.INVALID_VALUE, (*field, str(i)), "not an integer key"))
    return list(dict.fromkeys(converted)), problems
