"""Everything that talks to Neo4j for the API: segment metadata, definition versions, usage
records and membership reads. No other module calls the driver.

Modules: `db` (driver wrapper), `setup` (constraints and indexes), `segments`, `definitions`,
`lifecycle` (delete guard, duplicate), `usage`, `members`, `pages` (keyset cursors).
"""

from server.store.db import Db
from server.store.setup import ensure_schema

__all__ = ["Db", "ensure_schema"]
