"""Who am I, and API keys (admins only). A new key's token is returned once, never again."""

from __future__ import annotations

import re
from datetime import datetime

import strawberry

from server.access import ApiKeyRecord, Permission, Role, create_key, list_keys, revoke_key
from server.api.common import UserError, field, mutation, user_errors
from server.api.context import Info
from server.api.errors import Problem, UserErrorCode

strawberry.enum(Role, description="What a caller may do; PII is a separate grant.")
strawberry.enum(Permission)

KEY_NAME = re.compile(r"[A-Za-z0-9_.\- ]{1,100}")


@strawberry.type(description="The caller, as the API sees it.")
class Viewer:
    actor: str
    role: Role
    permissions: list[Permission]
    reads_pii: bool = strawberry.field(description="Whether PII values are shown unmasked.")


@strawberry.type(description="An API key; its secret is never shown again after creation.")
class ApiKey:
    id: strawberry.ID
    name: str
    role: Role
    pii: bool
    created_at: datetime
    created_by: str
    revoked: bool
    last_used_at: datetime | None

    @staticmethod
    def of(r: ApiKeyRecord) -> ApiKey:
        return ApiKey(
            id=strawberry.ID(r.id), name=r.name, role=r.role, pii=r.pii,
            created_at=r.created_at, created_by=r.created_by, revoked=r.revoked_at is not None,
            last_used_at=r.last_used_at,
        )  # fmt: skip


@strawberry.input
class CreateApiKeyInput:
    name: str
    role: Role
    pii: bool = strawberry.field(default=False, description="Grant READ_PII (admins have it).")


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey | None
    token: str | None = strawberry.field(
        description="The key to send as `Authorization: Bearer <token>`; shown only here."
    )
    user_errors: list[UserError]


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey | None
    user_errors: list[UserError]


@strawberry.type
class AccessQueries:
    @field("The caller: actor, role and permissions.")
    async def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            actor=p.actor, role=p.role, permissions=sorted(p.permissions), reads_pii=p.reads_pii
        )

    @field("Every API key, revoked ones included.", requires=Permission.MANAGE_KEYS)
    async def api_keys(self, info: Info) -> list[ApiKey]:
        return [ApiKey.of(k) for k in await list_keys(info.context.deps.db)]


@strawberry.type
class AccessMutations:
    @mutation("Create an API key for a role.", requires=Permission.MANAGE_KEYS)
    async def create_api_key(self, info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
        name = input.name.strip()
        if not KEY_NAME.fullmatch(name):
            message = "1 to 100 letters, digits, spaces, dots, dashes or underscores"
            problem = Problem(UserErrorCode.INVALID_NAME, ("input", "name"), message)
            return CreateApiKeyPayload(api_key=None, token=None, user_errors=user_errors([problem]))
        deps = info.context.deps
        new = await create_key(
            deps.db, name=name, role=input.role, pii=input.pii, actor=deps.actor, now=deps.clock()
        )
        return CreateApiKeyPayload(api_key=ApiKey.of(new.record), token=new.token, user_errors=[])

    @mutation("Revoke an API key at once; it stays listed.", requires=Permission.MANAGE_KEYS)
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> RevokeApiKeyPayload:
        deps = info.context.deps
        found = await revoke_key(deps.db, str(id), deps.clock())
        if found is None:
            problem = Problem(UserErrorCode.NOT_FOUND, ("id",), "no such API key")
            return RevokeApiKeyPayload(api_key=None, user_errors=user_errors([problem]))
        return RevokeApiKeyPayload(api_key=ApiKey.of(found), user_errors=[])
