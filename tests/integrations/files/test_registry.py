"""The file registry (gzip, detection by content), sport labels, and the bundled sample data."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from integrations.errors import BadFile
from integrations.files import activity_extension, read_file
from integrations.files.sources import Walk
from integrations.files.sports import STRAVA_GPX_TYPE_CODES, sport_from_label
from integrations.types import Sport


def test_a_gzipped_gpx_is_read_and_hashed_by_its_content(data_dir: Path) -> None:
    plain = (data_dir / "gpx" / "dup_morning_run.gpx").read_bytes()
    parsed = read_file((data_dir / "archives" / "dup_morning_run.gpx.gz").read_bytes(), "x.gpx.gz")
    assert parsed.format == "gpx"
    assert parsed.sha256 == hashlib.sha256(plain).hexdigest()
    (activity,) = parsed.activities
    assert (activity.source, activity.source_id) == ("gpx", f"{parsed.sha256[:32]}#0")


def test_a_gzipped_tcx_keeps_every_activity_with_its_own_id(data_dir: Path) -> None:
    data = (data_dir / "archives" / "two_activities.tcx.gz").read_bytes()
    parsed = read_file(data, "two_activities.tcx.gz")
    assert parsed.format == "tcx"
    assert [a.source_id[-2:] for a in parsed.activities] == ["#0", "#1"]


def test_the_format_is_detected_by_content_not_by_name(data_dir: Path) -> None:
    tcx_bytes = (data_dir / "tcx" / "two_activities.tcx").read_bytes()
    assert read_file(tcx_bytes, "mislabelled.gpx").format == "tcx"
    gpx_bytes = (data_dir / "gpx" / "no_type.gpx").read_bytes()
    assert read_file(gzip.compress(gpx_bytes), "download").format == "gpx"


def test_strava_tcx_with_leading_whitespace_is_detected(data_dir: Path) -> None:
    data = (data_dir / "tcx" / "strava_leading_whitespace.tcx").read_bytes()
    assert read_file(data, "123.tcx").format == "tcx"


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"", "run.gpx", "empty file"),
        (b"date,distance\n2026-05-01,5\n", "activities.csv", "unsupported file type"),
        (b"<kml></kml>", "route.gpx", "not a GPX file"),
        (b"\x1f\x8b\x08\x00broken", "run.gpx.gz", "broken gzip data"),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(BadFile, match=reason):
        read_file(data, name)


@pytest.mark.parametrize(
    "name",
    ["bad_truncated.gpx", "bad_empty.gpx", "bad_not_gpx.gpx", "bad_no_track_points.gpx"],
)
def test_every_bad_gpx_fixture_is_a_bad_file_through_the_registry(
    data_dir: Path, name: str
) -> None:
    with pytest.raises(BadFile):
        read_file((data_dir / "gpx" / name).read_bytes(), name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("run.fit", "fit"),
        ("RUN.GPX.GZ", "gpx"),
        ("a.b.tcx", "tcx"),
        ("notes.txt", None),
        ("gpx", None),
        ("export.zip", None),
    ],
)
def test_file_names_announce_formats(name: str, expected: str | None) -> None:
    assert activity_extension(name) == expected


@pytest.mark.parametrize(
    ("label", "sport"),
    [
        ("run", Sport.RUN),
        ("Running", Sport.RUN),
        ("RUN ", Sport.RUN),
        ("trail_running", Sport.TRAIL_RUN),
        ("Trail Run", Sport.TRAIL_RUN),
        ("TrailRun", Sport.TRAIL_RUN),
        ("treadmill_running", Sport.TREADMILL_RUN),
        ("VirtualRun", Sport.TREADMILL_RUN),
        ("walking", Sport.WALK),
        ("Walk", Sport.WALK),
        ("hiking", Sport.HIKE),
        ("cycling", Sport.RIDE),
        ("Biking", Sport.RIDE),
        ("road_biking", Sport.RIDE),
        ("Ride", Sport.RIDE),
        ("VirtualRide", Sport.RIDE),
        ("EBikeRide", Sport.RIDE),
        ("e-bike ride", Sport.RIDE),
        ("swimming", Sport.SWIM),
        ("lap_swimming", Sport.SWIM),
        ("open_water_swimming", Sport.SWIM),
        ("OpenWaterSwim", Sport.SWIM),
        ("Swim", Sport.SWIM),
        ("HKWorkoutActivityTypeRunning", Sport.RUN),
        ("HKWorkoutActivityTypeCycling", Sport.RIDE),
        ("9", Sport.RUN),
        ("1", Sport.RIDE),
        ("09", Sport.RUN),
        ("Other", Sport.OTHER),
        ("Yoga", Sport.OTHER),
        ("999", Sport.OTHER),
        ("unknown", Sport.UNKNOWN),
        ("", Sport.UNKNOWN),
        ("   ", Sport.UNKNOWN),
        (None, Sport.UNKNOWN),
    ],
)
def test_sport_labels_from_any_platform_map_onto_sports(label: str | None, sport: Sport) -> None:
    assert sport_from_label(label) is sport


def test_stravas_gpx_codes_cover_run_ride_walk_hike_and_swim() -> None:
    assert set(STRAVA_GPX_TYPE_CODES.values()) == {
        Sport.RUN,
        Sport.RIDE,
        Sport.WALK,
        Sport.HIKE,
        Sport.SWIM,
    }


SAMPLE = Path(__file__).parents[2] / "data" / "sample"


def test_the_sample_data_reads_back_to_its_documented_weekly_mileage() -> None:
    expected = json.loads((SAMPLE / "expected.json").read_text())
    zone = ZoneInfo(expected["timezone"])
    walk = Walk([SAMPLE / "activities"])
    weekly: defaultdict[str, float] = defaultdict(float)
    sports: Counter[Sport] = Counter()
    for source in walk.sources():
        for activity in read_file(source.read(), source.name).activities:
            sports[activity.sport] += 1
            if activity.sport.is_run:
                day = activity.start_utc.astimezone(zone).date()
                weekly[(day - timedelta(days=day.weekday())).isoformat()] += activity.distance_m
    assert walk.skipped == 0
    assert sum(sports.values()) == len(expected["activities"])
    assert sports[Sport.RUN] == 60
    assert {Sport.RIDE, Sport.SWIM, Sport.WALK} <= set(sports)
    for week in expected["weeks"]:
        assert weekly[week["week_start"]] / 1000 == pytest.approx(week["run_km"], abs=0.01)


def test_the_sample_runs_start_at_the_planned_local_times_across_the_clock_change() -> None:
    expected = json.loads((SAMPLE / "expected.json").read_text())
    zone = ZoneInfo(expected["timezone"])
    planned = {"easy": {"07:0", "18:3"}, "intervals": {"18:3"}, "long": {"09:0"}}
    for record in expected["activities"]:
        local = datetime.fromisoformat(record["start_utc"]).astimezone(zone)
        assert local.isoformat() == record["start_local"]
        if record["kind"] in planned:
            assert local.strftime("%H:%M")[:4] in planned[record["kind"]]
    after_change = [r for r in expected["activities"] if r["start_local"].startswith("2026-10-25")]
    assert [r["start_utc"][11:13] for r in after_change] == ["08"]  # 09:0x CET
