"""Pure checks of an export's wanted state; each returns the problems found (empty when fine).
Field paths are the input's (`["input", "columns", 2]`)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from graph_schema.model import Entity
from server.api.errors import Problem, UserErrorCode
from server.exports.paths import PathOutsideRoot, confine
from server.exports.records import Destination, DestinationKind, Trigger, TriggerKind
from server.members_table import resolve_columns, unknown_column
from server.outgoing import OutgoingPolicy, RefusedUrl, check_outgoing, url_host
from server.refresh.schedules import InvalidSchedule, check_schedule
from server.store.records import SegmentRecord

Field = tuple[str, ...]
Code = UserErrorCode
MAX_SEGMENTS = 50
MAX_HEADERS = 20
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# Set by the runner on every request: a user header must not override them.
RESERVED_HEADERS = ("content-type", "content-length", "host", "transfer-encoding")


def check_destination(d: Destination, root: Path, field: Field) -> list[Problem]:
    if d.kind.folder:
        return _folder_problems(d, root, field)
    return _http_problems(d, field)


def _folder_problems(d: Destination, root: Path, field: Field) -> list[Problem]:
    problems = [
        Problem(Code.INVALID_DESTINATION, (*field, name), f"{d.kind.value} takes no {name}")
        for name, given in (("url", d.url), ("headers", d.headers))
        if given
    ]
    try:
        confine(root, d.path or ".")
    except PathOutsideRoot as exc:
        problems.append(Problem(Code.PATH_OUTSIDE_EXPORT_ROOT, (*field, "path"), str(exc)))
    return problems


async def check_destination_url(
    d: Destination, policy: OutgoingPolicy, field: Field
) -> list[Problem]:
    """An HTTP destination must be a URL the server may call (see server.outgoing)."""
    if d.kind is not DestinationKind.HTTP_JSONL or not d.url:
        return []
    try:
        url_host(d.url)
    except RefusedUrl:
        return []  # not an http(s) URL: `check_destination` says so
    try:
        await check_outgoing(d.url, policy, unresolved_ok=True)
    except RefusedUrl as exc:
        return [Problem(Code.URL_NOT_ALLOWED, (*field, "url"), str(exc))]
    return []


def _http_problems(d: Destination, field: Field) -> list[Problem]:
    problems: list[Problem] = []
    if d.path:
        problems.append(Problem(Code.INVALID_DESTINATION, (*field, "path"), "HTTP takes no path"))
    url = urlsplit(d.url or "")
    if url.scheme not in ("http", "https") or not url.hostname or len(d.url or "") > 2000:
        message = "an http:// or https:// URL with a host"
        problems.append(Problem(Code.INVALID_DESTINATION, (*field, "url"), message))
    if len(d.headers) > MAX_HEADERS:
        message = f"at most {MAX_HEADERS} headers"
        problems.append(Problem(Code.LIMIT_EXCEEDED, (*field, "headers"), message))
    for i, (name, value) in enumerate(d.headers):
        if not _header_ok(name, value):
            message = "a header name of letters, digits and -, not one the export sets itself, "
            message += "and a value on one line"
            problems.append(Problem(Code.INVALID_DESTINATION, (*field, "headers", str(i)), message))
    return problems


def _header_ok(name: str, value: str) -> bool:
    lowered = name.lower()
    reserved = lowered in RESERVED_HEADERS or lowered.startswith("x-export-")
    return bool(HEADER_NAME.match(name)) and not reserved and not re.search(r"[\r\n\x00]", value)


def check_trigger(t: Trigger, field: Field) -> list[Problem]:
    if t.kind is not TriggerKind.SCHEDULE:
        if t.cron:
            message = "cron needs kind SCHEDULE"
            return [Problem(Code.INVALID_SCHEDULE, (*field, "cron"), message)]
        return []
    try:
        check_schedule(t.cron or "", t.timezone)
    except InvalidSchedule as exc:
        bad_zone = str(exc).startswith("unknown time zone")
        code = Code.INVALID_TIMEZONE if bad_zone else Code.INVALID_SCHEDULE
        return [Problem(code, (*field, "timezone" if bad_zone else "cron"), str(exc))]
    return []


def check_segments(
    ids: tuple[str, ...], found: list[SegmentRecord | None], field: Field
) -> list[Problem]:
    """At least one, at most MAX_SEGMENTS, each existing once, all of one audience."""
    if not 1 <= len(ids) <= MAX_SEGMENTS:
        message = f"an export carries 1 to {MAX_SEGMENTS} segments"
        return [Problem(Code.LIMIT_EXCEEDED, field, message)]
    problems: list[Problem] = []
    audience = next((s.audience for s in found if s is not None), None)
    for i, (segment_id, seg) in enumerate(zip(ids, found, strict=True)):
        at = (*field, str(i))
        if seg is None:
            problems.append(Problem(Code.NOT_FOUND, at, "no such segment"))
        elif segment_id in ids[:i]:
            problems.append(Problem(Code.INVALID_VALUE, at, "the segment is listed twice"))
        elif seg.audience != audience:
            message = f"the export's segments select {audience}; this one {seg.audience}"
            problems.append(Problem(Code.AUDIENCE_MISMATCH, at, message))
    return problems


def check_pii_columns(
    entity: Entity, columns: tuple[str, ...] | None, field: Field
) -> list[Problem]:
    """For a caller without READ_PII: an export writes raw values, so it may carry no PII
    attribute, and must list its columns when the audience has any (None means all)."""
    pii = [a.name for a in entity.attributes if a.pii]
    if columns is None:
        if not pii:
            return []
        message = f"without READ_PII, list the columns: {entity.name} has PII ({', '.join(pii)})"
        return [Problem(Code.NOT_PERMITTED, field, message)]
    return [
        Problem(Code.NOT_PERMITTED, (*field, str(i)), f"{name} is PII; your role may not export it")
        for i, name in enumerate(columns)
        if name in pii
    ]


def check_columns(
    entity: Entity, columns: tuple[str, ...] | None, field: Field
) -> tuple[tuple[str, ...] | None, list[Problem]]:
    """The columns in the schema's spelling without repeats (None stays: every attribute),
    with the members.csv rules (`server.members_table`)."""
    if columns is None:
        return None, []
    resolved = resolve_columns(entity, columns)
    problems = [
        Problem(Code.UNKNOWN_COLUMN, (*field, str(i)), unknown_column(entity, columns[i]))
        for i in resolved.unknown
    ]
    return tuple(dict.fromkeys(resolved.names)), problems
