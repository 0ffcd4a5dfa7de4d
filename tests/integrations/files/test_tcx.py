"""The TCX reader against real exports and hand-written fixtures."""

from __future__ import annotations

import contextlib
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.errors import BadFile
from integrations.files import gpx, tcx
from integrations.files.trackxml import EARTH_RADIUS_M
from integrations.types import ExternalActivity, Sport

STEP_M = EARTH_RADIUS_M * math.radians(0.001)
FIXTURES = Path(__file__).parents[2] / "data"


def read(data_dir: Path, name: str) -> list[ExternalActivity]:
    return tcx.read((data_dir / "tcx" / name).read_bytes())


def only(data_dir: Path, name: str) -> ExternalActivity:
    (activity,) = read(data_dir, name)
    return activity


REAL_TCX = [
    ("run_runalyze_Standard.tcx", Sport.RUN, "2011-07-10T09:47:00+00:00", 22224.30),
    ("bike_stravalib_sample.tcx", Sport.RIDE, "2009-02-21T12:57:25+00:00", 64670.19),
]


@pytest.mark.parametrize(("name", "sport", "start", "distance"), REAL_TCX)
def test_real_tcx_exports_match_their_ground_truth(
    real_data: Path, name: str, sport: Sport, start: str, distance: float
) -> None:
    (activity,) = tcx.read((real_data / "tcx" / name).read_bytes())
    assert activity.sport is sport
    assert activity.start_utc == datetime.fromisoformat(start)
    assert activity.distance_m == pytest.approx(distance, rel=0.005)
    assert activity.source == "tcx"


def test_moving_time_is_the_sum_of_lap_times_and_elapsed_runs_to_the_last_point(
    real_data: Path,
) -> None:
    (activity,) = tcx.read((real_data / "tcx" / "run_runalyze_Standard.tcx").read_bytes())
    assert activity.moving_s == pytest.approx(6523.83)
    assert activity.elapsed_s == 6699
    assert activity.elevation_gain_m is not None
    assert activity.elevation_gain_m > 100


def test_each_activity_element_becomes_its_own_activity(data_dir: Path) -> None:
    run, ride = read(data_dir, "two_activities.tcx")
    assert (run.sport, run.distance_m, run.moving_s, run.source_id) == (Sport.RUN, 5000, 1500, "0")
    assert (ride.sport, ride.distance_m, ride.moving_s, ride.source_id) == (
        Sport.RIDE,
        22500,
        2700,
        "1",
    )
    assert ride.source_sport == "Biking"


def test_a_duathlon_gives_one_activity_per_leg_without_transitions(data_dir: Path) -> None:
    legs = read(data_dir, "multisport_duathlon.tcx")
    assert [(leg.sport, leg.distance_m) for leg in legs] == [
        (Sport.RUN, 5000),
        (Sport.RIDE, 20000),
        (Sport.RUN, 2500),
    ]
    assert [leg.source_id for leg in legs] == ["0", "1", "2"]


def test_multisport_legs_start_at_their_first_lap_not_at_the_shared_session_id(
    data_dir: Path,
) -> None:
    starts = [
        leg.start_utc.strftime("%H:%M:%S") for leg in read(data_dir, "multisport_duathlon.tcx")
    ]
    assert starts == ["09:00:00", "09:21:00", "10:00:45"]


def test_offsets_in_times_are_converted_to_utc_and_kept(data_dir: Path) -> None:
    activity = only(data_dir, "offset_times.tcx")
    assert activity.start_utc == datetime(2026, 6, 20, 5, 5, tzinfo=UTC)
    assert activity.utc_offset_s == 7200
    assert activity.elapsed_s == 120
    assert activity.elevation_gain_m == pytest.approx(12.0)


def test_a_late_evening_run_west_of_greenwich_starts_on_the_next_utc_day(data_dir: Path) -> None:
    activity = only(data_dir, "late_evening_new_york.tcx")
    assert activity.start_utc == datetime(2026, 7, 4, 3, 40, tzinfo=UTC)
    assert activity.utc_offset_s == -4 * 3600
    local = activity.start_utc + timedelta(seconds=activity.utc_offset_s)
    assert (local.date().isoformat(), local.strftime("%H:%M")) == ("2026-07-03", "23:40")


def test_a_run_across_the_end_of_summer_time_lasts_its_real_duration(data_dir: Path) -> None:
    activity = only(data_dir, "dst_berlin_autumn.tcx")
    assert activity.start_utc == datetime(2026, 10, 25, 0, 40, tzinfo=UTC)
    assert activity.utc_offset_s == 7200  # the offset at the start, before clocks went back
    assert activity.elapsed_s == 40 * 60


def test_a_lap_without_distance_falls_back_to_the_trackpoints_cumulative_distance(
    data_dir: Path,
) -> None:
    activity = only(data_dir, "no_lap_distance.tcx")
    assert activity.distance_m == 2100
    assert activity.moving_s == 630


def test_without_any_distance_the_positions_are_summed_within_each_track(data_dir: Path) -> None:
    activity = only(data_dir, "positions_only.tcx")
    assert activity.distance_m == pytest.approx(4 * STEP_M, abs=0.01)
    assert activity.sport is Sport.OTHER
    assert activity.start_utc == datetime(2026, 5, 11, 17, 0, tzinfo=UTC)  # no Id: first lap


def test_stravas_tcx_with_whitespace_before_the_declaration_is_read(data_dir: Path) -> None:
    assert (data_dir / "tcx" / "strava_leading_whitespace.tcx").read_bytes().startswith(b"\n")
    activity = only(data_dir, "strava_leading_whitespace.tcx")
    assert activity.sport is Sport.RUN
    assert activity.distance_m == pytest.approx(6012.3)


def test_the_same_run_as_gpx_and_tcx_looks_like_a_duplicate(data_dir: Path) -> None:
    from_gpx = gpx.read((data_dir / "gpx" / "dup_morning_run.gpx").read_bytes())[0]
    from_tcx = only(data_dir, "dup_morning_run.tcx")
    assert abs((from_tcx.start_utc - from_gpx.start_utc).total_seconds()) <= 5
    assert from_tcx.distance_m == pytest.approx(from_gpx.distance_m, rel=0.01)
    assert from_tcx.distance_m != from_gpx.distance_m
    assert from_gpx.sport is from_tcx.sport is Sport.RUN


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad_truncated.tcx", "malformed or truncated XML"),
        ("bad_no_laps.tcx", "no activity with a lap or start time"),
    ],
)
def test_bad_tcx_files_are_rejected_with_a_one_line_reason(
    data_dir: Path, name: str, reason: str
) -> None:
    with pytest.raises(BadFile, match=reason) as caught:
        read(data_dir, name)
    assert "\n" not in str(caught.value)


def test_a_gpx_file_is_not_a_tcx_file(data_dir: Path) -> None:
    with pytest.raises(BadFile, match=r"not a TCX file \(root element is <gpx>\)"):
        tcx.read((data_dir / "gpx" / "no_type.gpx").read_bytes())


def test_an_empty_file_is_rejected() -> None:
    with pytest.raises(BadFile, match="empty file"):
        tcx.read(b"  \n")


def test_unparsable_numbers_and_times_do_not_escape_as_other_errors() -> None:
    data = (
        b'<TrainingCenterDatabase><Activities><Activity Sport="Running">'
        b"<Id>yesterday</Id><Lap StartTime='9999-99-99'><TotalTimeSeconds>1e999</TotalTimeSeconds>"
        b"<DistanceMeters>lots</DistanceMeters></Lap></Activity></Activities>"
        b"</TrainingCenterDatabase>"
    )
    with pytest.raises(BadFile):
        tcx.read(data)


@given(st.data())
def test_any_truncation_of_a_valid_file_gives_activities_or_bad_file(data: st.DataObject) -> None:
    whole = (FIXTURES / "tcx" / "multisport_duathlon.tcx").read_bytes()
    cut = data.draw(st.integers(0, len(whole)))
    try:
        result = tcx.read(whole[:cut])
    except BadFile:
        return
    assert isinstance(result, list)


@given(st.text(max_size=200))
def test_arbitrary_text_inside_a_lap_gives_activities_or_bad_file(text: str) -> None:
    data = (
        '<TrainingCenterDatabase><Activities><Activity Sport="Running">'
        f"<Lap StartTime='2026-05-01T10:00:00Z'>{text}</Lap></Activity></Activities>"
        "</TrainingCenterDatabase>"
    ).encode("utf-8", "surrogatepass")
    with contextlib.suppress(BadFile):
        tcx.read(data)


def test_courses_and_transition_points_do_not_leak_into_activities() -> None:
    point = (
        "<Trackpoint><Time>{t}</Time><Position><LatitudeDegrees>{lat}</LatitudeDegrees>"
        "<LongitudeDegrees>13.4</LongitudeDegrees></Position></Trackpoint>"
    )
    far = "".join(point.format(t="2026-05-20T12:00:00Z", lat=10 + i) for i in range(2))
    near = "".join(point.format(t=f"2026-05-20T10:0{i}:00Z", lat=52.5 + i / 1000) for i in range(3))
    data = (
        "<TrainingCenterDatabase><Activities><MultiSportSession>"
        '<FirstSport><Activity Sport="Running"><Lap StartTime="2026-05-20T10:00:00Z">'
        f"<TotalTimeSeconds>120</TotalTimeSeconds><Track>{near}</Track></Lap></Activity>"
        "</FirstSport><NextSport><Transition StartTime='2026-05-20T10:02:00Z'>"
        f"<Track>{far}</Track></Transition></NextSport></MultiSportSession></Activities>"
        f"<Courses><Course><Name>c</Name><Track>{far}</Track></Course></Courses>"
        "</TrainingCenterDatabase>"
    ).encode()
    (activity,) = tcx.read(data)
    assert activity.distance_m == pytest.approx(2 * STEP_M, abs=0.01)
    assert activity.elapsed_s == 120
