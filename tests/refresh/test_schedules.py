"""Schedules with a controllable clock: the system cadence in its time zone, per-segment cron,
static and manual segments never firing, inactive ones skipped with the reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from arq.connections import ArqRedis

from server.refresh.graph import Graph
from server.refresh.jobs import schedule_tick
from server.refresh.records import SegmentInfo
from server.refresh.schedules import (
    InvalidSchedule,
    SystemSchedule,
    check_schedule,
    fires_between,
    plan_due,
)
from tests.refresh.helpers import make_segment, segment_props

SYSTEM = SystemSchedule(cron="0 6 * * *", timezone="Europe/Paris")  # 06:00 Paris time
T0 = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 05:00 in Paris (summer time, UTC+2)


def segment(**changes: object) -> SegmentInfo:
    base = SegmentInfo(
        id="s", name="s", type="DYNAMIC", state="ACTIVE", valid=True, status="SUCCESSFUL",
        audience="Person", timezone="UTC", schedule_kind="SYSTEM", schedule_cron=None,
        definition_version=1, active_version=1, created_at=T0 - timedelta(days=30),
        last_scheduled_at=T0 - timedelta(hours=1), references=(),
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_system_cadence_is_read_in_its_time_zone() -> None:
    assert not fires_between(SYSTEM.cron, SYSTEM.timezone, T0, T0 + timedelta(minutes=59))
    assert fires_between(SYSTEM.cron, SYSTEM.timezone, T0, T0 + timedelta(hours=1))


def test_due_segments_by_kind_and_state() -> None:
    later = T0 + timedelta(hours=1, minutes=1)
    segments = [
        segment(id="dyn"),
        segment(id="static", type="STATIC"),
        segment(id="manual", schedule_kind="MANUAL"),
        segment(id="off", state="INACTIVE"),
        segment(id="draft", valid=False),
        segment(id="own", schedule_kind="CRON", schedule_cron="0 4 * * *", timezone="UTC"),
        segment(id="own-later", schedule_kind="CRON", schedule_cron="0 9 * * *"),
        segment(id="done", last_scheduled_at=T0 + timedelta(hours=1)),
    ]
    plan = plan_due(segments, SYSTEM, later)
    assert plan.refresh == ("dyn", "own")
    assert set(plan.skip) == {"off", "draft"}
    assert "inactive" in plan.skip["off"]


def test_several_missed_times_fire_once_and_new_segments_count_from_creation() -> None:
    week_later = T0 + timedelta(days=7)
    assert plan_due([segment()], SYSTEM, week_later).refresh == ("s",)
    fresh = segment(last_scheduled_at=None, created_at=T0)
    assert plan_due([fresh], SYSTEM, T0 + timedelta(minutes=30)).refresh == ()
    assert plan_due([fresh], SYSTEM, T0 + timedelta(hours=1)).refresh == ("s",)


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(InvalidSchedule):
        check_schedule("61 * * * *", "UTC")
    with pytest.raises(InvalidSchedule):
        check_schedule("0 6 * * *", "Mars/Olympus")
    check_schedule("*/15 8-18 * * 1-5", "America/New_York")


@pytest.mark.anyio
async def test_a_tick_queues_due_segments_and_skips_inactive_ones(
    graph: Graph, arq_redis: ArqRedis
) -> None:
    created = T0 - timedelta(days=1)
    for sid, state in (("a", "ACTIVE"), ("b", "ACTIVE"), ("off", "INACTIVE")):
        await make_segment(graph, sid, "score >= 1", state=state, created_at=created)
    await make_segment(graph, "static", "score >= 1", type="STATIC", created_at=created)
    now = T0 + timedelta(hours=1)

    submitted = await schedule_tick(arq_redis, graph, SYSTEM, now)

    assert submitted is not None
    assert submitted.segment_ids == ("a", "b")
    assert submitted.job_id.startswith("refresh-pass:schedule:")
    assert (await segment_props(graph, "a"))["status"] == "QUEUED"
    off = await segment_props(graph, "off")
    assert (off["status"], off["statusDetail"]) == ("SKIPPED", plan_due_reason())
    assert (await segment_props(graph, "static"))["status"] == "NOT_STARTED"
    # The same tick again (arq's unique cron ran twice, or a restart) fires nothing new.
    assert await schedule_tick(arq_redis, graph, SYSTEM, now) is None


def plan_due_reason() -> str:
    return "inactive segments are not refreshed by the schedule"
