"""End to end through the real `runstrength` entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import Cli

FR630 = "fit/run_runalyze_FR630-with-lth.fit"
NACHTLAUF = "gpx/run_strava-export_Nachtlauf.gpx"
STANDARD_TCX = "tcx/run_runalyze_Standard.tcx"


@pytest.fixture
def migrated(cli: Cli) -> Cli:
    assert cli("db", "upgrade").code == 0
    return cli


def test_commands_refuse_a_database_that_was_never_upgraded(cli: Cli) -> None:
    result = cli("activities")
    assert result.code == 1
    assert "runstrength db upgrade" in result.err
    assert "Traceback" not in result.err


def test_importing_the_real_device_files_stores_every_activity_with_its_sport(
    migrated: Cli, real_data: Path
) -> None:
    result = migrated("import", str(real_data))
    assert result.code == 0, result.err
    sports = sorted(a["sport"] for a in migrated.json("activities")["activities"])
    # FR630, runPower and the truncated FIT, the Garmin GPX and the TCX run; the Strava GPX
    # says no sport; a FIT ride, a FIT pool swim and a TCX ride.
    assert sports == ["ride", "ride", "run", "run", "run", "run", "run", "swim", "unknown"]


def test_running_an_import_again_changes_nothing(migrated: Cli, real_data: Path) -> None:
    migrated("import", str(real_data))
    before = migrated.json("activities")
    again = migrated("import", str(real_data))
    assert again.code == 0
    assert "0 run(s) imported" in again.out
    assert migrated.json("activities") == before


def test_the_same_run_plain_gzipped_and_zipped_is_stored_once(
    migrated: Cli, real_data: Path, tmp_path: Path
) -> None:
    source = real_data / FR630
    shutil.copy(source, tmp_path / "a.fit")
    (tmp_path / "b.fit.gz").write_bytes(gzip.compress(source.read_bytes()))
    with zipfile.ZipFile(tmp_path / "c.zip", "w") as archive:
        archive.write(source, "export/activities/c.fit")
    assert migrated("import", str(tmp_path)).code == 0
    assert len(migrated.json("activities")["activities"]) == 1


def test_a_track_without_a_sport_counts_only_when_the_runner_says_it_was_a_run(
    migrated: Cli, real_data: Path
) -> None:
    migrated("import", str(real_data / NACHTLAUF))
    assert migrated.json("activities")["activities"][0]["sport"] == "unknown"
    week = migrated.json("mileage", "--today", "2015-12-01", "--weeks", "1")["weeks"][0]
    assert week["runs"] == 0


def test_the_sport_option_marks_unlabelled_tracks_as_runs(migrated: Cli, real_data: Path) -> None:
    migrated("import", "--sport", "run", str(real_data / NACHTLAUF))
    week = migrated.json("mileage", "--today", "2015-12-01", "--weeks", "1")["weeks"][0]
    assert week["runs"] == 1
    assert week["distance_km"] == pytest.approx(3.69532, rel=0.005)


def test_a_corrupt_file_is_rejected_by_name_while_the_others_import(
    migrated: Cli, real_data: Path, tmp_path: Path
) -> None:
    (tmp_path / "broken.fit").write_bytes(b"\x0e\x10" + b"garbage" * 10)
    shutil.copy(real_data / STANDARD_TCX, tmp_path / "long.tcx")
    result = migrated("import", str(tmp_path))
    assert result.code == 2
    assert "broken.fit" in result.err
    assert "Traceback" not in result.err
    assert [a["sport"] for a in migrated.json("activities")["activities"]] == ["run"]


def test_a_missing_path_is_a_usage_error(migrated: Cli, tmp_path: Path) -> None:
    result = migrated("import", str(tmp_path / "nope.fit"))
    assert result.code == 1
    assert "nope.fit" in result.err


def test_an_unknown_time_zone_is_refused_in_one_line(migrated: Cli) -> None:
    result = migrated("runner", "set", "--timezone", "Mars/Olympus")
    assert result.code == 1
    assert result.err.strip().count("\n") == 0
    assert "Mars/Olympus" in result.err


def test_changing_the_time_zone_redates_runs_whose_file_gave_no_offset(
    migrated: Cli, real_data: Path
) -> None:
    migrated("import", "--sport", "run", str(real_data / NACHTLAUF))  # 2015-12-01 20:11 UTC
    assert migrated.json("activities")["activities"][0]["start"].startswith("2015-12-01T21:11")
    assert migrated("runner", "set", "--timezone", "Pacific/Kiritimati").code == 0  # UTC+14
    moved = migrated.json("activities")["activities"][0]
    assert moved["start"].startswith("2015-12-02T10:11")
    week = migrated.json("mileage", "--today", "2015-12-02", "--weeks", "1")["weeks"][0]
    assert week["runs"] == 1


def test_mileage_adds_up_to_the_runs_stored(migrated: Cli, real_data: Path) -> None:
    migrated("import", str(real_data / STANDARD_TCX), str(real_data / FR630))
    weeks = migrated.json("mileage", "--today", "2015-12-31", "--weeks", "520")["weeks"]
    runs = [a for a in migrated.json("activities")["activities"] if a["sport"] == "run"]
    assert sum(w["runs"] for w in weeks) == len(runs) == 2
    total_km = sum(w["distance_km"] for w in weeks)
    assert total_km == pytest.approx(sum(a["distance_m"] for a in runs) / 1000, abs=0.01)
    assert total_km == pytest.approx((22224.30 + 2029.94) / 1000, rel=0.005)


def test_miles_are_shown_when_the_runner_prefers_them(migrated: Cli, real_data: Path) -> None:
    migrated("import", str(real_data / STANDARD_TCX))
    migrated("runner", "set", "--units", "mi")
    table = migrated("mileage", "--today", "2011-07-10", "--weeks", "1").out
    assert "13.81 mi" in table


def test_the_bundled_sample_gives_the_weekly_mileage_it_was_generated_with(
    migrated: Cli, data_dir: Path
) -> None:
    sample = data_dir / "sample"
    expected = json.loads((sample / "expected.json").read_text(encoding="utf-8"))
    migrated("runner", "set", "--timezone", expected["timezone"])
    result = migrated("import", str(sample / "activities"))
    assert result.code == 0, result.err
    report = migrated.json("mileage", "--today", "2026-11-22", "--weeks", "12")
    got = [(w["week_start"], w["runs"], w["distance_km"], w["longest_km"]) for w in report["weeks"]]
    want = [(w["week_start"], w["runs"], w["run_km"], w["long_run_km"]) for w in expected["weeks"]]
    assert [g[:2] for g in got] == [w[:2] for w in want]
    for (_, _, km, longest), (_, _, want_km, want_longest) in zip(got, want, strict=True):
        assert km == pytest.approx(want_km, abs=0.01)
        assert longest == pytest.approx(want_longest, abs=0.01)
    last_four = [w["run_km"] for w in expected["weeks"][-5:-1]]
    assert report["avg4_km"] == pytest.approx(sum(last_four) / 4, abs=0.01)
    stored = migrated.json("activities")["activities"]
    assert len(stored) == len(expected["activities"])
    starts = sorted(a["start"][:19] for a in stored)
    assert starts == sorted(a["start_local"][:19] for a in expected["activities"])


def test_one_run_exported_as_gpx_tcx_and_gzip_and_inside_an_archive_is_stored_once(
    migrated: Cli, data_dir: Path
) -> None:
    result = migrated(
        "import",
        str(data_dir / "gpx" / "dup_morning_run.gpx"),
        str(data_dir / "tcx" / "dup_morning_run.tcx"),
        str(data_dir / "archives" / "dup_morning_run.gpx.gz"),
        str(data_dir / "archives" / "mixed_export.zip"),
    )
    assert result.code == 0, result.err
    morning = [a for a in migrated.json("activities")["activities"] if "dup_morning" in a["origin"]]
    assert len(morning) == 1
    assert "duplicate" in result.out


def test_every_kind_of_bad_file_is_rejected_with_its_own_reason(
    migrated: Cli, data_dir: Path
) -> None:
    bad = [
        data_dir / "fit" / "empty.fit",
        data_dir / "fit" / "not_a_fit_file.fit",
        data_dir / "fit" / "monitoring.fit",
        data_dir / "gpx" / "bad_truncated.gpx",
        data_dir / "gpx" / "bad_not_gpx.gpx",
        data_dir / "archives" / "bad_corrupt.zip",
    ]
    result = migrated("import", *map(str, bad), str(data_dir / "fit" / "run.fit"))
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.startswith("rejected: ")]
    assert len(lines) == len(bad)
    assert len({line.split(": ", 2)[2] for line in lines}) == len(bad)  # each says why
    assert "monitoring" in result.err
    assert len(migrated.json("activities")["activities"]) == 1
