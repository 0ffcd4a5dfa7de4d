"""intervals.icu JSON <-> our types: activities, planned runs, our pushed sessions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrations.intervals_icu.mapping import (
    activity_from_json,
    event_body,
    is_strava_stub,
    planned_runs_from_events,
)
from integrations.types import CalendarEvent, RunKind, Sport

DATA = Path(__file__).parents[2] / "data" / "intervals"


def recorded(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_an_activity_maps_with_the_offset_between_its_local_and_utc_starts() -> None:
    activity = activity_from_json(recorded("activities.json")[0])
    assert (activity.source, activity.source_id) == ("intervals_icu", "i90210001")
    assert activity.sport is Sport.RUN
    assert activity.start_utc == datetime(2026, 3, 29, 7, 45, 12, tzinfo=UTC)
    assert activity.utc_offset_s == 7200
    assert activity.distance_m == pytest.approx(24310.4)
    assert (activity.moving_s, activity.elapsed_s) == (7932, 8210)


def test_a_virtual_run_is_a_treadmill_run_and_a_swim_a_swim() -> None:
    rows = recorded("activities.json")
    assert activity_from_json(rows[1]).sport is Sport.TREADMILL_RUN
    assert activity_from_json(rows[3]).sport is Sport.SWIM


def test_activities_from_strava_are_stubs() -> None:
    stubs = [raw["id"] for raw in recorded("activities.json") if is_strava_stub(raw)]
    assert stubs == ["13874400102", "13874400103"]


def test_a_start_from_local_time_and_zone_when_utc_is_missing() -> None:
    activity = activity_from_json(
        {"id": "i1", "start_date_local": "2026-07-01T08:00:00", "timezone": "Europe/Berlin"}
    )
    assert activity.start_utc == datetime(2026, 7, 1, 6, tzinfo=UTC)
    assert activity.utc_offset_s == 7200
    with pytest.raises(ValueError, match="start"):
        activity_from_json({"id": "i2", "start_date_local": "2026-07-01T08:00:00"})


def planned() -> dict[date, Any]:
    return {run.day: run for run in planned_runs_from_events(recorded("events.json"))}


def test_only_planned_runs_come_back_not_rides_notes_or_our_own_strength_sessions() -> None:
    assert sorted(planned()) == [date(2026, 5, d) for d in (4, 5, 7, 8, 10, 16, 17, 24)]


def test_interval_and_threshold_workouts_are_hard_days() -> None:
    runs = planned()
    assert runs[date(2026, 5, 5)].kind is RunKind.HARD
    assert runs[date(2026, 5, 7)].kind is RunKind.HARD
    assert runs[date(2026, 5, 4)].kind is RunKind.EASY
    assert runs[date(2026, 5, 8)].kind is RunKind.EASY


def test_the_weeks_longest_run_of_at_least_90_minutes_is_the_long_run() -> None:
    runs = planned()
    assert runs[date(2026, 5, 10)].kind is RunKind.LONG
    assert runs[date(2026, 5, 10)].duration_s == 6300


def test_a_run_named_long_is_the_long_run_even_when_a_longer_one_is_planned() -> None:
    runs = planned()
    assert runs[date(2026, 5, 16)].kind is RunKind.LONG
    assert runs[date(2026, 5, 16)].distance_m == 14000  # from the workout document
    assert runs[date(2026, 5, 17)].kind is RunKind.EASY


def test_a_planned_race_is_a_race_with_its_start_time() -> None:
    race = planned()[date(2026, 5, 24)]
    assert race.kind is RunKind.RACE
    assert race.start_local == datetime(2026, 5, 24, 9, 0)
    assert planned()[date(2026, 5, 5)].start_local == datetime(2026, 5, 5, 18, 30)
    assert planned()[date(2026, 5, 4)].start_local is None


def test_a_long_interval_session_stays_hard_and_is_not_the_long_run() -> None:
    events = [
        {"category": "WORKOUT", "type": "Run", "start_date_local": "2026-05-05T00:00:00",
         "name": "3x5km at marathon pace", "moving_time": 6000},
        {"category": "WORKOUT", "type": "Run", "start_date_local": "2026-05-06T00:00:00",
         "name": "Easy", "moving_time": 3000},
    ]  # fmt: skip
    assert [r.kind for r in planned_runs_from_events(events)] == [RunKind.HARD, RunKind.EASY]


def test_our_session_becomes_a_workout_event_in_local_time_keyed_by_uid() -> None:
    start = datetime(2026, 5, 6, 16, 30, tzinfo=UTC)
    event = CalendarEvent(
        uid="rs-2026-05-06-upper",
        start=start,
        end=start.replace(hour=17, minute=15),
        summary="Upper body A",
        description="Push-ups 3x12",
        categories=("upper_body",),
        revised=start,
    )
    body = event_body(event, ZoneInfo("Europe/Berlin"))
    assert body == {
        "category": "WORKOUT",
        "type": "WeightTraining",
        "start_date_local": "2026-05-06T18:30:00",
        "name": "Upper body A",
        "description": "Push-ups 3x12",
        "moving_time": 45 * 60,
        "external_id": "rs-2026-05-06-upper",
    }
