"""Feature rows through the column path, batch by batch, with a blocking or an async driver.

A batch is one to-one query (which finds the profiles by key and returns their element ids)
then one query per activity over those ids; up to `workers` queries run at once (Community
runs each query on one core, and while Neo4j computes one the driver can decode another), and
the next batch's to-one query runs beside this batch's activities. Results are folded into the
rows as each batch completes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph_schema import GraphSchema
from server.features.columns import ColumnReads, column_reads
from server.features.fold import Floats, fold_activity, fold_to_one
from server.features.plan import FeaturePlan

Key = str | int
Columns = Mapping[str, Sequence[Any]]  # one record's lists, by column name
Task = tuple[str, dict[str, Any]]  # query text and parameters
SyncRead = Callable[[str, dict[str, Any]], Columns]
AsyncRead = Callable[[str, dict[str, Any]], Awaitable[Columns]]
BATCH = 10_000


@dataclass(slots=True)
class Rows:
    """The rows being filled: one per key asked (a key may come twice), NaN until read."""

    plan: FeaturePlan
    reads: ColumnReads
    now: dt.datetime
    keys: list[Key]
    values: Floats = field(init=False)
    positions: dict[Key, list[int]] = field(init=False)

    def __post_init__(self) -> None:
        self.values = np.full((len(self.keys), len(self.plan.features)), np.nan)
        self.positions = {}
        for i, k in enumerate(self.keys):
            self.positions.setdefault(k, []).append(i)

    def batches(self, size: int) -> list[list[Key]]:
        unique = list(self.positions)
        return [unique[i : i + size] for i in range(0, len(unique), size)]

    def head(self, batch: list[Key]) -> Task:
        return self.reads.to_one, {**self.reads.params, "keys": batch}

    def activities(self, batch: list[Key], head: Columns) -> list[Task]:
        # the keys ride along: an element id freed by a delete since the head query may
        # already name another profile, and the key check skips it
        keys = [batch[i] for i in head["owner"]]
        params = {**self.reads.params, "ids": list(head["ids"]), "idKeys": keys}
        return [(a.text, params) for a in self.reads.activities]

    def fill(self, batch: list[Key], head: Columns, found: Sequence[Columns]) -> None:
        """Fold one batch's records (the to-one query's, then the activities' in plan order)
        into the rows of its keys; keys without a profile keep their NaN rows."""
        owner = np.asarray(head["owner"], dtype=np.int64)
        n, groups = len(owner), self.plan.groups()
        width = sum(len(g) for g in groups[: len(self.plan.to_one)])
        blocks = [fold_to_one(head["rows"], n, width)]
        pairs = zip(self.reads.activities, found, strict=True)
        blocks += [fold_activity(a.activity, self.plan, cols, n, self.now) for a, cols in pairs]
        block = np.hstack(blocks)
        found_keys = [batch[i] for i in owner.tolist()]
        rows = [p for k in found_keys for p in self.positions[k]]
        repeats = [len(self.positions[k]) for k in found_keys]
        self.values[rows] = np.repeat(block, repeats, axis=0)


def read_rows(
    read: SyncRead, schema: GraphSchema, plan: FeaturePlan, keys: Sequence[Key],
    now: dt.datetime, *, batch_size: int = BATCH, workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Floats:  # fmt: skip
    """One row of the plan's features per key as of `now` (NaN rows for unknown keys),
    reading with a blocking `read` on up to `workers` threads; `progress` hears the number
    of distinct keys done. Raises ValueError for a naive `now`, neo4j errors as raised."""
    rows = Rows(plan, column_reads(schema, plan, now), now, list(keys))
    batches = rows.batches(batch_size)
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        head: Future[Columns] | None = None
        if batches:
            head = pool.submit(read, *rows.head(batches[0]))
        for k, batch in enumerate(batches):
            assert head is not None
            found = head.result()
            parts = [pool.submit(read, *task) for task in rows.activities(batch, found)]
            if k + 1 < len(batches):  # the next batch's profiles, beside these activities
                head = pool.submit(read, *rows.head(batches[k + 1]))
            rows.fill(batch, found, [f.result() for f in parts])
            done += len(batch)
            if progress is not None:
                progress(done)
    return rows.values


async def read_rows_async(
    read: AsyncRead, schema: GraphSchema, plan: FeaturePlan, keys: Sequence[Key],
    now: dt.datetime, *, batch_size: int = BATCH, workers: int = 2,
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> Floats:  # fmt: skip
    """As `read_rows`, with an async `read`; up to `workers` queries in flight."""
    rows = Rows(plan, column_reads(schema, plan, now), now, list(keys))
    gate = asyncio.Semaphore(max(1, workers))
    in_flight = asyncio.Semaphore(2)  # this batch and the next one's to-one query

    async def one(task: Task) -> Columns:
        async with gate:
            return await read(*task)

    done = 0

    async def batch_of(batch: list[Key]) -> None:
        nonlocal done
        async with in_flight:
            found = await one(rows.head(batch))
            parts = await asyncio.gather(*(one(task) for task in rows.activities(batch, found)))
            rows.fill(batch, found, parts)
        done += len(batch)
        if progress is not None:
            await progress(done)

    # batches start in order and wait at the gates: at most `workers` queries run at once
    await asyncio.gather(*(batch_of(b) for b in rows.batches(batch_size)))
    return rows.values
