"""Plain values that mutations hand to the domain functions (no GraphQL types)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from server.api.errors import Problem
from server.store.records import ScheduleKind, SegmentType

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DefinitionSource:
    text: str | None = None
    tree: Any = None  # the JSON form a visual builder sends (any JSON value: checked later)

    @property
    def both(self) -> bool:
        return self.text is not None and self.tree is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    kind: ScheduleKind
    cron: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateSegment:
    name: str
    display_name: str | None
    description: str
    type: SegmentType
    audience: str
    definition: DefinitionSource
    tags: list[str]
    timezone: str
    schedule: Schedule | None
    activate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSegment:
    """None leaves a property as it is; a definition makes a new version."""

    id: str
    display_name: str | None = None
    description: str | None = None
    definition: DefinitionSource | None = None
    timezone: str | None = None
    schedule: Schedule | None = None


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """A domain result: the value, or why not (problems are user-fixable)."""

    value: T | None
    problems: tuple[Problem, ...] = ()

    @staticmethod
    def fail(*problems: Problem) -> Outcome[T]:
        return Outcome(None, problems)
