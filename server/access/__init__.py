"""Who may do what: API keys (stored hashed), roles, and the PII grant.

- roles: `Role`, `Permission`, `ROLE_PERMISSIONS`, `Principal`
- keys: `create_key`, `authenticate`, `list_keys`, `revoke_key`, `KEY_HEADER`
- masking: `MASK`, `masked_columns`
"""

from server.access.keys import (
    ApiKeyRecord,
    InvalidKey,
    NewKey,
    authenticate,
    create_key,
    list_keys,
    revoke_key,
)
from server.access.masking import MASK, mask_value, pii_columns
from server.access.roles import ROLE_PERMISSIONS, Permission, Principal, Role

__all__ = [
    "MASK",
    "ROLE_PERMISSIONS",
    "ApiKeyRecord",
    "InvalidKey",
    "NewKey",
    "Permission",
    "Principal",
    "Role",
    "authenticate",
    "create_key",
    "list_keys",
    "mask_value",
    "pii_columns",
    "revoke_key",
]
