"""Sales-ready transitions: crossing up records the time, staying keeps it, dropping clears."""

from __future__ import annotations

import datetime as dt

from scoring import SalesReadyState, transitioned, update_sales_ready
from scoring.sales_ready import NOT_READY

T = [dt.datetime(2026, 1, d, tzinfo=dt.UTC) for d in range(1, 7)]


def test_a_lead_becomes_ready_stays_drops_and_becomes_ready_again() -> None:
    scores = [10, 60, 75, 59.9, 60, 61]  # threshold 60, inclusive
    states, state = [], NOT_READY
    for score, now in zip(scores, T, strict=True):
        before, state = state, update_sales_ready(state, score, 60, now)
        states.append((state.ready, state.since, transitioned(before, state)))
    assert states == [
        (False, None, False), (True, T[1], True), (True, T[1], False),
        (False, None, False), (True, T[4], True), (True, T[4], False),
    ]  # fmt: skip


def test_unchanged_state_is_returned_as_is() -> None:
    ready = SalesReadyState(True, T[0])
    assert update_sales_ready(ready, 99, 60, T[3]) is ready
    assert update_sales_ready(NOT_READY, 1, 60, T[3]) is NOT_READY
