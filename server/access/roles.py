"""Roles and what they permit. PII is a separate grant: any role may hold it, admin always does."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "ADMIN"
    MARKETER = "MARKETER"
    SALES = "SALES"
    VIEWER = "VIEWER"


class Permission(StrEnum):
    READ_SEGMENTS = "READ_SEGMENTS"  # definitions, counts, trends, usage, schema, estimates
    READ_MEMBERS = "READ_MEMBERS"  # member pages, CSV export, membership explanations
    READ_SCORES = "READ_SCORES"  # lead scores and grades
    MANAGE_SEGMENTS = "MANAGE_SEGMENTS"  # create, change, refresh, delete, static members
    MANAGE_EXPORTS = "MANAGE_EXPORTS"  # export destinations and their runs
    MANAGE_KEYS = "MANAGE_KEYS"  # API keys
    WRITE_DATA = "WRITE_DATA"  # ingest profiles and interactions (live data)
    READ_PII = "READ_PII"  # see PII values and filter on PII attributes


_READ = frozenset({Permission.READ_SEGMENTS})
_SALES = _READ | {Permission.READ_MEMBERS, Permission.READ_SCORES}
_MARKETER = _SALES | {Permission.MANAGE_SEGMENTS, Permission.MANAGE_EXPORTS}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.SALES: _SALES,
    Role.MARKETER: _MARKETER,
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the actor recorded on what they change, and what they may do."""

    actor: str
    role: Role
    pii: bool = False  # the PII grant of a non-admin key
    key_id: str | None = None  # None for the unauthenticated local-development caller
    identified: bool = True  # False: a socket still waiting for its key may do nothing

    @property
    def permissions(self) -> frozenset[Permission]:
        if not self.identified:
            return frozenset()
        granted = ROLE_PERMISSIONS[self.role]
        return granted | {Permission.READ_PII} if self.pii else granted

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def reads_pii(self) -> bool:
        return self.can(Permission.READ_PII)


def local_developer(actor: str) -> Principal:
    """The caller without a key when authentication is off (local development only)."""
    return Principal(actor=actor, role=Role.ADMIN)


NOBODY = Principal(actor="nobody", role=Role.VIEWER, identified=False)
