"""Trained models loaded once per process, cached by version id.

A version's artifact never changes after training (a new training is a new version), so the
id alone identifies the bytes; the cache keeps the last few versions a process used.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from scoring import TrainedModel, model_from_bytes

KEEP = 8


class VersionCache:
    def __init__(self, keep: int = KEEP) -> None:
        self._models: OrderedDict[str, TrainedModel] = OrderedDict()
        self._lock = asyncio.Lock()
        self.keep = keep
        self.loads = 0  # how many artifacts this process deserialised (tests read it)

    async def get(
        self, version_id: str, read: Callable[[], Awaitable[bytes | None]]
    ) -> TrainedModel | None:
        """The model of `version_id`, reading its bytes with `read` the first time. None when
        there are none. Raises ScoringError(INVALID_ARTIFACT) for bytes that are no model."""
        async with self._lock:
            if version_id in self._models:
                self._models.move_to_end(version_id)
                return self._models[version_id]
            data = await read()
            if data is None:
                return None
            model = await asyncio.to_thread(model_from_bytes, data, version_id)
            self.loads += 1
            self._models[version_id] = model
            while len(self._models) > self.keep:
                self._models.popitem(last=False)
            return model


MODELS = VersionCache()
"""The process-wide cache (API processes and workers each hold one)."""
