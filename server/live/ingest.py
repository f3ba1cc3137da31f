"""One ingestion call: validate, write what is valid in one transaction, queue the changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis

from graph_schema import GraphSchema
from server.live.queue import queue_changes
from server.live.records import Change, RecordError
from server.live.validate import validate_records
from server.live.write import write_records
from server.store.db import Db


@dataclass(frozen=True, slots=True)
class Ingested:
    accepted: int  # records written (durable: committed in Neo4j)
    changed: int  # records queued for live membership (both ends of new links)
    errors: tuple[RecordError, ...]


async def ingest(db: Db, redis: ArqRedis, schema: GraphSchema, records: Sequence[Any]) -> Ingested:
    checked = validate_records(schema, records)
    errors = list(checked.errors)
    changes: list[Change] = []
    accepted = 0
    if checked.upserts or checked.deletes:
        changes, refused = await write_records(db, schema, checked.upserts, checked.deletes)
        errors += refused
        accepted = len(checked.upserts) + len(checked.deletes) - len({e.index for e in refused})
        await queue_changes(redis, changes)
    return Ingested(accepted, len(changes), tuple(sorted(errors, key=lambda e: e.index)))
