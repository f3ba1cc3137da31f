"""Shared pieces of the demo generator: per-chunk state, clock, id and choice helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Column = list[Any]  # one CSV column, already formatted

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class Clock:
    """Turns "days ago" into text; everything happens before `today` 00:00 UTC."""

    today: date

    @property
    def _midnight(self) -> np.datetime64:
        return np.datetime64(self.today.isoformat(), "s")

    def datetimes(self, days_ago: Floats) -> Column:
        seconds = np.ceil(days_ago * SECONDS_PER_DAY).astype(np.int64)
        stamps = self._midnight - seconds.astype("timedelta64[s]")
        return list(np.datetime_as_string(stamps, unit="s", timezone="UTC").tolist())

    def dates(self, days_ago: Floats) -> Column:
        days = np.ceil(days_ago).astype(np.int64)
        stamps = np.datetime64(self.today.isoformat(), "D") - days.astype("timedelta64[D]")
        return list(np.datetime_as_string(stamps, unit="D").tolist())

    def day_of_year(self, days_ago: Floats) -> Ints:
        days = np.datetime64(self.today.isoformat(), "D") - np.ceil(days_ago).astype(
            "timedelta64[D]"
        )
        return np.asarray((days - days.astype("datetime64[Y]")).astype(np.int64), dtype=np.int64)


@dataclass(slots=True)
class Counters:
    """Running ids across chunks, so ids are dense and deterministic for a seed."""

    values: dict[str, int] = field(default_factory=dict)

    def take(self, name: str, count: int) -> range:
        start = self.values.get(name, 0)
        self.values[name] = start + count
        return range(start + 1, start + count + 1)


def ids(prefix: str, numbers: range | Ints, width: int = 7) -> Column:
    return [f"{prefix}{i:0{width}d}" for i in numbers]


def pick(rng: np.random.Generator, options: tuple[str, ...], size: int, p: object = None) -> Column:
    probabilities = None if p is None else np.asarray(p, dtype=float) / np.sum(np.asarray(p))
    return list(np.asarray(options, dtype=object)[rng.choice(len(options), size, p=probabilities)])


def blank(values: Column, mask: Bools) -> Column:
    """Empty cells where `mask` is set: optional attributes with missing values."""
    return ["" if m else v for v, m in zip(values, mask.tolist(), strict=True)]


def booleans(mask: Bools) -> Column:
    return ["true" if m else "false" for m in mask.tolist()]


def money(values: Floats) -> Column:
    return list(np.round(values, 2).tolist())


def sigmoid(x: Floats) -> Floats:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def owner_index(counts: Ints) -> Ints:
    """For per-owner counts, the owner of each child row: [2, 0, 1] -> [0, 0, 2]."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)
