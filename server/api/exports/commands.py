"""Plain values that export mutations hand to the domain functions (no GraphQL types)."""

from __future__ import annotations

from dataclasses import dataclass

from server.exports.records import Destination, Trigger


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportSpec:
    """An export's whole wanted state (create, or update merged onto the stored one)."""

    name: str
    description: str
    segment_ids: tuple[str, ...]  # "" where a given id is not a segment's global id
    columns: tuple[str, ...] | None  # None: every attribute of the audience
    destination: Destination
    trigger: Trigger
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportChanges:
    """An update: None leaves a property as it is."""

    id: str
    name: str | None = None
    description: str | None = None
    segment_ids: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None  # () asks for every attribute again
    destination: Destination | None = None
    trigger: Trigger | None = None
    active: bool | None = None
