"""Strava activity JSON -> ExternalActivity, on recorded-shape data and on generated input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.strava.mapping import (
    activity_from_json,
    is_long_run,
    offset_at,
    sport_of,
)
from integrations.types import Sport

DATA = Path(__file__).parents[2] / "data" / "strava"


def recorded(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def listing() -> dict[int, Any]:
    return {raw["id"]: raw for raw in recorded("athlete_activities.json")}


def test_a_long_run_maps_distance_times_and_the_summer_offset_from_the_timezone_field() -> None:
    activity = activity_from_json(listing()[13874400101])
    assert activity.source == "strava"
    assert activity.source_id == "13874400101"
    assert activity.sport is Sport.RUN
    assert activity.start_utc == datetime(2026, 3, 29, 7, 45, 12, tzinfo=UTC)
    # DST began in Berlin that morning: the zone says +02:00 where "(GMT+01:00)" says +01:00
    assert activity.utc_offset_s == 7200
    assert activity.distance_m == pytest.approx(24310.4)
    assert (activity.moving_s, activity.elapsed_s) == (7932, 8210)
    assert activity.elevation_gain_m == pytest.approx(142.0)
    assert activity.name == "Sunday long run along the river"
    assert is_long_run(activity)
    assert not activity.is_race
    assert not activity.is_workout


def test_workout_type_marks_races_and_workouts() -> None:
    rows = listing()
    race, workout = activity_from_json(rows[13874400102]), activity_from_json(rows[13874400103])
    assert race.is_race
    assert not race.is_workout
    assert not is_long_run(race)
    assert workout.is_workout
    assert not workout.is_race


def test_a_run_on_a_trainer_is_a_treadmill_run() -> None:
    assert activity_from_json(listing()[13874400104]).sport is Sport.TREADMILL_RUN


def test_sport_type_wins_over_the_deprecated_type() -> None:
    rows = listing()
    gravel = activity_from_json(rows[13874400105])
    assert gravel.sport is Sport.RIDE
    assert gravel.source_sport == "GravelRide"
    assert gravel.utc_offset_s == -4 * 3600  # New York in March: EDT
    pickleball = activity_from_json(rows[13874400106])
    assert pickleball.sport is Sport.OTHER
    assert pickleball.source_sport == "Pickleball"
    assert pickleball.utc_offset_s == 5 * 3600 + 45 * 60


def test_the_start_comes_from_start_date_not_the_misleading_local_z() -> None:
    activity = activity_from_json(recorded("activity_detailed.json"))
    assert activity.sport is Sport.TRAIL_RUN
    assert activity.start_utc == datetime(2026, 7, 4, 5, 2, 11, tzinfo=UTC)
    assert activity.utc_offset_s == -7 * 3600
    local = activity.start_utc + timedelta(seconds=activity.utc_offset_s)
    assert local.replace(tzinfo=None) == datetime(2026, 7, 3, 22, 2, 11)


@pytest.mark.parametrize(
    ("sport_type", "sport"),
    [
        ("Run", Sport.RUN),
        ("TrailRun", Sport.TRAIL_RUN),
        ("VirtualRun", Sport.TREADMILL_RUN),
        ("Walk", Sport.WALK),
        ("Hike", Sport.HIKE),
        ("VirtualRide", Sport.RIDE),
        ("MountainBikeRide", Sport.RIDE),
        ("EBikeRide", Sport.RIDE),
        ("Swim", Sport.SWIM),
        ("WeightTraining", Sport.OTHER),
        ("", Sport.UNKNOWN),
        (None, Sport.UNKNOWN),
    ],
)
def test_sport_types_map_onto_our_sports(sport_type: str | None, sport: Sport) -> None:
    assert sport_of(sport_type) is sport


def test_an_activity_without_an_id_or_start_is_refused() -> None:
    with pytest.raises(ValueError, match="id"):
        activity_from_json({"resource_state": 1, "start_date": "2026-03-01T07:00:00Z"})
    with pytest.raises(ValueError, match="timestamp"):
        activity_from_json({"id": 5, "resource_state": 1})


def test_an_unknown_zone_falls_back_to_utc_offset_then_to_the_gmt_prefix() -> None:
    start = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert offset_at("(GMT+01:00) Mars/Olympus_Mons", start, 7200.0) == 7200
    assert offset_at("(GMT-03:30) Nowhere/Else", start) == -(3 * 3600 + 30 * 60)
    assert offset_at("", start) is None
    assert offset_at(None, start, None) is None


@given(
    zone=st.sampled_from(sorted(available_timezones())),
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
    ),
    prefix=st.sampled_from(["(GMT+00:00) ", "(GMT-11:00) ", "(GMT+05:45) ", "", "  "]),
)
def test_any_iana_zone_gives_its_offset_at_that_instant(
    zone: str, moment: datetime, prefix: str
) -> None:
    expected = moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert expected is not None
    assert offset_at(prefix + zone, moment) == int(expected.total_seconds())


@given(text=st.text(max_size=60), utc_offset=st.none() | st.floats() | st.integers())
def test_any_timezone_text_gives_an_offset_within_a_day_or_none(
    text: str, utc_offset: float | int | None
) -> None:
    offset = offset_at(text, datetime(2026, 1, 1, tzinfo=UTC), utc_offset)
    assert offset is None or abs(offset) < 24 * 3600


@given(sport_type=st.text(max_size=30), trainer=st.booleans())
def test_any_sport_type_maps_to_one_of_our_sports(sport_type: str, trainer: bool) -> None:
    activity = activity_from_json(
        {
            "id": 1,
            "start_date": "2026-01-01T00:00:00Z",
            "sport_type": sport_type,
            "trainer": trainer,
            "workout_type": 3,
        }
    )
    assert activity.sport in Sport
    assert activity.source_sport == sport_type
    assert activity.is_workout


@given(
    raw=st.dictionaries(
        st.sampled_from(
            [
                "distance",
                "moving_time",
                "elapsed_time",
                "total_elevation_gain",
                "workout_type",
                "name",
                "timezone",
                "utc_offset",
                "trainer",
                "type",
            ]
        ),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=10)
        | st.lists(st.integers(), max_size=2),
    )
)
def test_junk_in_optional_fields_never_breaks_the_mapping(raw: dict[str, Any]) -> None:
    activity = activity_from_json({**raw, "id": 9, "start_date": "2026-01-01T00:00:00Z"})
    assert activity.distance_m >= 0
    assert activity.moving_s is None or activity.moving_s >= 0
