"""The GPX reader against real exports, hand-written fixtures and generated tracks."""

from __future__ import annotations

import contextlib
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.errors import BadFile
from integrations.files import gpx
from integrations.files.trackxml import EARTH_RADIUS_M, haversine_m
from integrations.types import ExternalActivity, Sport

STEP_M = EARTH_RADIUS_M * math.radians(0.001)  # 0.001 degrees along a meridian: 111.319 m


def read(data_dir: Path, name: str) -> list[ExternalActivity]:
    return gpx.read((data_dir / "gpx" / name).read_bytes())


def only(data_dir: Path, name: str) -> ExternalActivity:
    (activity,) = read(data_dir, name)
    return activity


def document(segments: list[list[str]], extra: str = "") -> bytes:
    """A GPX file with one track whose segments hold the given <trkpt> elements."""
    body = "".join("<trkseg>" + "".join(points) + "</trkseg>" for points in segments)
    return (
        '<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk>{extra}{body}</trk></gpx>"
    ).encode()


def point(lat: float, lon: float, second: int) -> str:
    moment = datetime(2026, 5, 1, 6, 0, tzinfo=UTC).timestamp() + second
    stamp = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><time>{stamp}</time></trkpt>'


REAL_GPX = [
    # file, sport, start (UTC), distance m: from ../shared/data/real/README.md
    ("run_strava-export_Nachtlauf.gpx", Sport.UNKNOWN, "2015-12-01T20:11:32+00:00", 3695.32),
    ("run_garminconnect_ns3-extension.gpx", Sport.RUN, "2016-09-20T04:16:00+00:00", 118.11),
]


@pytest.mark.parametrize(("name", "sport", "start", "distance"), REAL_GPX)
def test_real_gpx_exports_match_their_ground_truth(
    real_data: Path, name: str, sport: Sport, start: str, distance: float
) -> None:
    (activity,) = gpx.read((real_data / "gpx" / name).read_bytes())
    assert activity.sport is sport
    assert activity.start_utc == datetime.fromisoformat(start)
    assert activity.distance_m == pytest.approx(distance, rel=0.005)
    assert activity.source == "gpx"
    assert activity.source_id == "0"


def test_the_strava_export_without_type_keeps_its_name_and_stops(real_data: Path) -> None:
    (activity,) = gpx.read((real_data / "gpx" / "run_strava-export_Nachtlauf.gpx").read_bytes())
    assert activity.name == "Nachtlauf"
    assert activity.source_sport is None
    assert activity.elapsed_s == 1156
    # the first two minutes are spent standing still waiting for a fix: not moving
    assert activity.moving_s is not None
    assert 900 < activity.moving_s < activity.elapsed_s - 120


def test_gpx_distance_never_bridges_a_segment_gap(data_dir: Path) -> None:
    activity = only(data_dir, "two_segments_gap.gpx")
    assert activity.distance_m == pytest.approx(7 * STEP_M, abs=0.01)


def test_gpx_moving_time_leaves_out_the_pause_between_segments(data_dir: Path) -> None:
    activity = only(data_dir, "two_segments_gap.gpx")
    assert activity.elapsed_s == 1890
    assert activity.moving_s == 210


def test_gpx_elevation_gain_counts_climbs_within_segments_and_ignores_jitter(
    data_dir: Path,
) -> None:
    # first segment climbs 40 -> 60 m; the second starts 40 m higher and only jitters
    assert only(data_dir, "two_segments_gap.gpx").elevation_gain_m == pytest.approx(20.0)


def test_gpx_without_elevations_has_no_elevation_gain(data_dir: Path) -> None:
    assert only(data_dir, "type_strava_code.gpx").elevation_gain_m is None


def test_points_without_usable_coordinates_are_ignored_not_rejected(data_dir: Path) -> None:
    activity = only(data_dir, "missing_coordinates.gpx")
    assert activity.distance_m == pytest.approx(3 * STEP_M, abs=0.01)
    # their times are ignored too: the coordinate-less point at 06:59 does not start the run
    assert activity.start_utc == datetime(2026, 5, 5, 7, 0, tzinfo=UTC)
    assert activity.elapsed_s == 90


def test_a_track_without_type_has_unknown_sport_whatever_its_name_says(data_dir: Path) -> None:
    activity = only(data_dir, "no_type.gpx")
    assert activity.name == "Evening Run"
    assert activity.sport is Sport.UNKNOWN
    assert activity.source_sport is None


def test_stravas_numeric_type_nine_is_a_run(data_dir: Path) -> None:
    activity = only(data_dir, "type_strava_code.gpx")
    assert activity.sport is Sport.RUN
    assert activity.source_sport == "9"


def test_each_timed_track_is_its_own_activity_and_untimed_tracks_are_left_out(
    data_dir: Path,
) -> None:
    ride, run = read(data_dir, "two_tracks.gpx")
    assert (ride.sport, ride.name, ride.source_id) == (Sport.RIDE, "Ride to the park", "0")
    assert (run.sport, run.name, run.source_id) == (Sport.RUN, "Park run", "1")
    assert ride.distance_m == pytest.approx(10 * STEP_M, abs=0.01)


def test_an_explicit_offset_is_kept_and_the_start_converted_to_utc(data_dir: Path) -> None:
    activity = only(data_dir, "local_offset.gpx")
    assert activity.start_utc == datetime(2026, 6, 13, 5, 5, tzinfo=UTC)
    assert activity.utc_offset_s == 7200
    assert activity.sport is Sport.TRAIL_RUN
    assert activity.elapsed_s == 80


def test_utc_times_state_no_offset_so_the_runners_zone_decides(data_dir: Path) -> None:
    activity = only(data_dir, "late_night_berlin.gpx")
    assert activity.utc_offset_s is None
    assert activity.start_utc == datetime(2026, 7, 14, 22, 20, tzinfo=UTC)
    assert activity.start_utc.astimezone(ZoneInfo("Europe/Berlin")).date().isoformat() == (
        "2026-07-15"
    )


def test_the_name_falls_back_to_the_metadata_name(data_dir: Path) -> None:
    assert only(data_dir, "dup_morning_run.gpx").name == "Morning Run"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad_truncated.gpx", "malformed or truncated XML"),
        ("bad_empty.gpx", "empty file"),
        ("bad_not_gpx.gpx", "not a GPX file (root element is <kml>)"),
        ("bad_no_track_points.gpx", "no track points with a time"),
    ],
)
def test_bad_gpx_files_are_rejected_with_a_one_line_reason(
    data_dir: Path, name: str, reason: str
) -> None:
    with pytest.raises(BadFile, match=reason.replace("(", r"\(").replace(")", r"\)")) as caught:
        read(data_dir, name)
    assert "\n" not in str(caught.value)


def test_a_tcx_file_is_not_a_gpx_file(data_dir: Path) -> None:
    with pytest.raises(BadFile, match="root element is <TrainingCenterDatabase>"):
        gpx.read((data_dir / "tcx" / "two_activities.tcx").read_bytes())


def test_leading_whitespace_and_a_byte_order_mark_are_tolerated(data_dir: Path) -> None:
    data = b"\xef\xbb\xbf\r\n  " + (data_dir / "gpx" / "no_type.gpx").read_bytes()
    assert gpx.read(data)[0].name == "Evening Run"


def test_gpx_1_0_files_are_read_too() -> None:
    data = document([[point(52.5, 13.4, 0), point(52.501, 13.4, 30)]]).replace(
        b"http://www.topografix.com/GPX/1/1", b"http://www.topografix.com/GPX/1/0"
    )
    assert gpx.read(data)[0].distance_m == pytest.approx(STEP_M, abs=0.01)


def test_entities_are_not_resolved_and_nothing_is_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY leak SYSTEM "file://{secret}">]>'
        '<gpx version="1.1"><trk><name>x&leak;</name><trkseg>'
        + point(52.5, 13.4, 0)
        + "</trkseg></trk></gpx>"
    ).encode()
    (activity,) = gpx.read(data)
    assert "secret" not in (activity.name or "")


def test_a_large_file_is_read_in_linear_time() -> None:
    points = [point(52.5 + i * 1e-5, 13.4, i) for i in range(100_000)]
    data = document([points])
    started = time.perf_counter()
    (activity,) = gpx.read(data)
    assert time.perf_counter() - started < 10
    assert activity.distance_m == pytest.approx(99_999 * STEP_M / 100, rel=1e-6)


coordinates = st.tuples(
    st.floats(min_value=-80, max_value=80, allow_nan=False),
    st.floats(min_value=-179, max_value=179, allow_nan=False),
)
segments_strategy = st.lists(st.lists(coordinates, min_size=1, max_size=8), min_size=1, max_size=4)


def _timed(segments: list[list[tuple[float, float]]]) -> list[list[str]]:
    counter = iter(range(10_000))
    return [[point(lat, lon, next(counter)) for lat, lon in segment] for segment in segments]


@given(segments_strategy)
def test_gpx_distance_is_the_sum_of_its_segments_distances(
    segments: list[list[tuple[float, float]]],
) -> None:
    whole = gpx.read(document(_timed(segments)))[0].distance_m
    parts = sum(gpx.read(document(_timed([segment])))[0].distance_m for segment in segments)
    assert whole == pytest.approx(parts, rel=1e-9, abs=1e-6)


@given(segments_strategy, st.data())
def test_gpx_distance_ignores_inserted_points_without_coordinates(
    segments: list[list[tuple[float, float]]], data: st.DataObject
) -> None:
    timed = _timed(segments)
    before = gpx.read(document(timed))[0]
    junk = st.sampled_from(
        ["<trkpt><time>2026-05-01T05:00:00Z</time></trkpt>", '<trkpt lat="x" lon="1"/>', "<trkpt/>"]
    )
    for segment in timed:
        for _ in range(data.draw(st.integers(0, 3))):
            segment.insert(data.draw(st.integers(0, len(segment))), data.draw(junk))
    after = gpx.read(document(timed))[0]
    assert after.distance_m == pytest.approx(before.distance_m, rel=1e-12, abs=1e-9)
    assert (after.start_utc, after.elapsed_s) == (before.start_utc, before.elapsed_s)


def test_haversine_of_one_degree_of_latitude_is_a_degree_of_the_earths_circumference() -> None:
    assert haversine_m((0.0, 0.0), (1.0, 0.0)) == pytest.approx(EARTH_RADIUS_M * math.pi / 180)
    assert haversine_m((10.0, 20.0), (10.0, 20.0)) == 0


@given(st.data())
def test_any_truncation_of_a_valid_file_gives_activities_or_bad_file(data: st.DataObject) -> None:
    whole = (Path(__file__).parents[2] / "data" / "gpx" / "two_segments_gap.gpx").read_bytes()
    cut = data.draw(st.integers(0, len(whole)))
    try:
        result = gpx.read(whole[:cut])
    except BadFile:
        return
    assert isinstance(result, list)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_activities_or_bad_file(blob: bytes) -> None:
    with contextlib.suppress(BadFile):
        gpx.read(b"<gpx>" + blob)


def test_a_type_written_after_the_segments_is_still_read() -> None:
    data = document([[point(52.5, 13.4, 0), point(52.501, 13.4, 30)]]).replace(
        b"</trk>", b"<type>Run</type><name>Late tags</name></trk>"
    )
    (activity,) = gpx.read(data)
    assert (activity.sport, activity.name) == (Sport.RUN, "Late tags")


def test_an_entity_expansion_bomb_is_refused_quickly() -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = (
        f'<?xml version="1.0"?><!DOCTYPE gpx [{entities}]><gpx><trk><name>&a9;</name>'
        "<trkseg>" + point(52.5, 13.4, 0) + "</trkseg></trk></gpx>"
    ).encode()
    started = time.perf_counter()
    with pytest.raises(BadFile, match="malformed or truncated XML"):
        gpx.read(data)
    assert time.perf_counter() - started < 1
