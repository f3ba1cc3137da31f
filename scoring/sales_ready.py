"""Sales-ready transitions: when a lead's score crosses the threshold, and since when.

A lead becomes sales-ready the first time its score reaches the threshold and keeps the time
it became so while it stays at or above it; dropping below clears it, so a later rise is a new
transition with a new time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SalesReadyState:
    ready: bool = False
    since: dt.datetime | None = None  # when it last became sales-ready


NOT_READY = SalesReadyState()


def update_sales_ready(
    previous: SalesReadyState, score: float, threshold: float, now: dt.datetime
) -> SalesReadyState:
    """The state after a new score. Returns `previous` itself when nothing changed."""
    if score >= threshold:
        return previous if previous.ready else SalesReadyState(True, now)
    return NOT_READY


def transitioned(before: SalesReadyState, after: SalesReadyState) -> bool:
    """True when `after` is a new sales-ready transition (the moment to notify sales)."""
    return after.ready and after.since != before.since
