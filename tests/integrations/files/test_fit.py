"""FIT reader: real device files, generated fixtures, refusals, and fast scan == fitdecode."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.errors import BadFile
from integrations.files import fit, fit_scan, read_file
from integrations.types import ExternalActivity, Sport

ROOT = Path(__file__).resolve().parents[3]
REAL = ROOT / ".." / "shared" / "data" / "real" / "fit"
FIXTURES = ROOT / "tests" / "data" / "fit"

# file: (sport, start, distance m), from /work/shared/data/real/README.md
GROUND_TRUTH = {
    "run_runalyze_FR630-with-lth.fit": (Sport.RUN, "2015-11-27T20:02:58", 2029.94),
    "run_runalyze_garmin-runPower.fit": (Sport.RUN, "2017-12-09T08:19:03", 25601.78),
    "bike_fitparse_garmin-edge-500-activity.fit": (Sport.RIDE, "2011-09-25T13:00:21", 92622.34),
    "swim_fitsdk_activity_poolswim_with_hr.fit": (Sport.SWIM, "2016-08-13T13:10:47", 1700.00),
    "bad_fitsdk_activity-unexpected-eof.fit": (Sport.RUN, "2012-04-09T21:22:26", 5.73),
}
ALL_FILES = [f"real/{name}" for name in GROUND_TRUTH] + sorted(
    f"fixture/{p.name}" for p in FIXTURES.glob("*.fit")
)


def load(name: str) -> bytes:
    """Bytes of a fixture, or of a real file (skipping the test when the folder is absent)."""
    kind, _, file = name.partition("/")
    if kind == "real":
        path = REAL / file
        if not path.is_file():
            pytest.skip(f"real device files not found at {REAL}")
        return path.read_bytes()
    return (FIXTURES / (file if kind == "fixture" else name)).read_bytes()


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def outcome(reader: Callable[[bytes], list[ExternalActivity]], data: bytes) -> object:
    """The activities, or the fact that the file was refused."""
    try:
        return reader(data)
    except BadFile:
        return BadFile


def only(data: bytes) -> ExternalActivity:
    (activity,) = fit.read(data)
    return activity


def _with_body(body: bytes) -> bytes:
    """A complete FIT file (12-byte header, CRC) around message bytes."""
    head = struct.pack("<BBHI4s", 12, 0x20, 2132, len(body), b".FIT")
    return head + body + struct.pack("<H", fit_scan.crc16(head + body))


def _flip_crc(data: bytes) -> bytes:
    """The same bytes with a wrong file CRC."""
    return data[:-2] + bytes([data[-2] ^ 0xFF, data[-1]])


@pytest.mark.parametrize("name", list(GROUND_TRUTH))
def test_real_file_matches_ground_truth(name: str) -> None:
    sport, start, distance = GROUND_TRUTH[name]
    activity = only(load(f"real/{name}"))
    assert activity.sport == sport
    assert activity.start_utc == utc(start)
    assert activity.distance_m == pytest.approx(distance, rel=0.005)
    assert (activity.source, activity.source_id) == ("fit", "0")


def test_bike_and_swim_files_are_not_runs() -> None:
    for name in (
        "bike_fitparse_garmin-edge-500-activity.fit",
        "swim_fitsdk_activity_poolswim_with_hr.fit",
    ):
        assert not only(load(f"real/{name}")).sport.is_run


def test_real_watch_file_reports_offset_durations_and_climb() -> None:
    activity = only(load("real/run_runalyze_FR630-with-lth.fit"))
    assert (activity.utc_offset_s, activity.moving_s, activity.elevation_gain_m) == (
        3600,
        819.227,
        22,
    )
    assert activity.source_sport == "running"


def test_plain_run_reads_its_session_summary() -> None:
    assert only(load("run.fit")) == ExternalActivity(
        source="fit",
        source_id="0",
        sport=Sport.RUN,
        start_utc=utc("2024-05-12T07:00:00"),
        distance_m=3600.0,
        utc_offset_s=7200,
        moving_s=1200.0,
        elapsed_s=1200.0,
        elevation_gain_m=12.0,
        source_sport="running",
    )


def test_gzipped_run_reads_like_the_plain_file() -> None:
    parsed = read_file(load("run.fit.gz"), "run.fit.gz")
    assert parsed.format == "fit"
    assert [a.distance_m for a in parsed.activities] == [3600.0]
    assert gzip.decompress(load("run.fit.gz")) == load("run.fit")


def test_multisport_file_yields_one_activity_per_leg() -> None:
    legs = fit.read(load("duathlon.fit"))
    assert [(a.sport, a.source_sport, a.distance_m) for a in legs] == [
        (Sport.RUN, "running", 2970.0),
        (Sport.OTHER, "transition", 60.0),
        (Sport.RIDE, "cycling/road", 14400.0),
        (Sport.OTHER, "transition", 45.0),
        (Sport.RUN, "running", 1920.0),
    ]
    assert [a.source_id for a in legs] == ["0", "1", "2", "3", "4"]
    assert legs[2].start_utc == utc("2024-09-08T08:16:00")
    assert legs[4].start_utc == utc("2024-09-08T08:46:45")


def _laps_and_last_record(data: bytes) -> tuple[float, float]:
    """Sum of lap distances and the last record distance, in metres (fixture sanity)."""
    scan = fit_scan.scan(data, full=True)
    laps = sum(lap[9] for lap in scan.messages[fit_scan.LAP]) / 100
    return laps, max(d for _, d in scan.records if d is not None) / 100


def test_session_without_distance_uses_records_when_the_last_lap_is_missing() -> None:
    data = load("no_total_distance_last_lap_missing.fit")
    assert _laps_and_last_record(data) == (5000.0, 5250.0)
    assert only(data).distance_m == 5250.0


def test_session_without_distance_uses_laps_when_they_exceed_records() -> None:
    data = load("no_total_distance_laps_exceed_records.fit")
    laps, records = _laps_and_last_record(data)
    assert laps == 3600.0 > records
    assert only(data).distance_m == 3600.0


def test_native_field_wins_over_developer_field_of_the_same_name() -> None:
    activity = only(load("developer_field_named_distance.fit"))
    assert activity.distance_m == 1800.0  # developer "distance"/"total_distance" say 987654


def test_run_on_dst_change_day_keeps_utc_start_and_summer_offset() -> None:
    activity = only(load("dst_berlin_2026-03-29.fit"))
    assert activity.start_utc == utc("2026-03-29T21:30:00")  # 23:30 in Berlin (CEST)
    assert activity.utc_offset_s == 7200
    assert activity.distance_m == 7560.0


def test_file_cut_mid_records_imports_the_records_it_has() -> None:
    activity = only(load("truncated_mid_records.fit"))
    assert activity.sport == Sport.RUN  # from the sport message at the start
    assert activity.start_utc == utc("2024-08-20T05:15:00")
    assert activity.distance_m == pytest.approx(2473.8)  # record 399 of the cut 400th
    assert (activity.elapsed_s, activity.moving_s, activity.utc_offset_s) == (798.0, None, None)


def test_big_endian_file_reads_like_a_little_endian_one() -> None:
    activity = only(load("big_endian.fit"))
    assert (activity.distance_m, activity.utc_offset_s) == (2610.0, 3600)


def test_compressed_timestamps_place_records_inside_the_session_span() -> None:
    assert only(load("compressed_timestamps.fit")).distance_m == 1500.0


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty.fit", "empty file"),
        ("not_a_fit_file.fit", "not a FIT file"),
        ("monitoring.fit", "not an activity: this FIT file holds monitoring_b data"),
        ("device_relative_timestamps.fit", "device-relative timestamps"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(name: str, reason: str) -> None:
    with pytest.raises(BadFile, match=reason):
        fit.read(load(name))


def test_file_without_session_lap_or_record_is_refused() -> None:
    definition = struct.pack("<BBBHB", 0x40, 0, 0, 0, 1) + bytes([0, 1, 0x00])  # file_id.type
    file_id_only = _with_body(definition + b"\x00\x04")  # type 4: activity
    with pytest.raises(BadFile, match="no session, lap or record"):
        fit.read(file_id_only)


def test_bad_crc_alone_does_not_reject_a_file_that_decodes() -> None:
    data = load("run.fit")
    assert fit_scan.crc_matches(data) is True
    damaged = _flip_crc(data)
    assert fit_scan.crc_matches(damaged) is False
    assert fit.read(damaged) == fit.read(data)


def test_undecodable_file_with_bad_crc_says_the_file_is_damaged() -> None:
    data = bytearray(load("run.fit"))
    _, file_id_at = fit_scan.parse_definition(bytes(data), data[0], len(data), data[data[0]])
    data[file_id_at] = 0x0F  # a data message of local type 15, never defined
    with pytest.raises(BadFile, match=r"undefined type.*CRC does not match"):
        fit.read(_flip_crc(bytes(data)))


def test_chained_fit_files_yield_the_sessions_of_both() -> None:
    data = load("run.fit") + load("big_endian.fit") + b"trailing junk"
    assert [a.distance_m for a in fit.read(data)] == [3600.0, 2610.0]
    assert fit.read(data) == fit.read_reference(data)


def test_unsupported_field_encoding_falls_back_to_fitdecode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # session (18) with start_time, sport and total_distance as a 2-element uint32 array
    definition = struct.pack("<BBBHB", 0x40, 0, 0, 18, 3) + bytes([2, 4, 0x86, 5, 1, 0, 9, 8, 0x86])
    session = b"\x00" + struct.pack("<IBII", 1_000_000_000, 1, 500_000, 0)
    data = _with_body(definition + session)
    calls: list[bytes] = []
    reference = fit.read_reference
    monkeypatch.setattr(fit, "read_reference", lambda d: calls.append(d) or reference(d))
    (activity,) = fit.read(data)
    assert calls == [data]
    assert (activity.sport, activity.distance_m) == (Sport.RUN, 0.0)  # the array is not a total


@pytest.mark.parametrize("name", ALL_FILES)
def test_fast_scan_matches_fitdecode_on_every_file(name: str) -> None:
    data = load(name)
    assert outcome(fit.read, data) == outcome(fit.read_reference, data)


@pytest.mark.parametrize("name", ALL_FILES)
def test_careful_walk_matches_fitdecode_on_every_file(name: str) -> None:
    data = load(name)

    def careful(d: bytes) -> list[ExternalActivity]:
        if not d:
            raise BadFile("empty")
        try:
            return fit.summarise(fit_scan.scan(d, full=True))
        except fit_scan.Corrupt as exc:
            raise BadFile(str(exc)) from None

    assert outcome(careful, data) == outcome(fit.read_reference, data)


@pytest.mark.parametrize("name", ALL_FILES)
def test_read_never_needs_fitdecode_for_these_files(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load(name)

    def no_fallback(_: bytes) -> list[ExternalActivity]:
        pytest.fail("read fell back to fitdecode")

    monkeypatch.setattr(fit, "read_reference", no_fallback)
    outcome(fit.read, data)


def test_fast_scan_keeps_only_the_first_and_last_record() -> None:
    scan = fit_scan.scan(load("run.fit"))
    assert not scan.all_records
    assert len(scan.records) == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, 1 << 15),
    flips=st.lists(st.tuples(st.integers(0, 1 << 15), st.integers(1, 255)), max_size=4),
)
def test_damaged_bytes_raise_only_bad_file(cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(load("run.fit"))
    for at, mask in flips:
        data[at % len(data)] ^= mask
    try:
        activities = fit.read(bytes(data[:cut]))
    except BadFile:
        return
    assert all(isinstance(a, ExternalActivity) for a in activities)


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 1 << 15))
def test_cut_file_never_reports_more_than_the_whole(cut: int) -> None:
    try:
        activities = fit.read(load("run.fit")[:cut])
    except BadFile:
        return
    (activity,) = activities
    assert activity.start_utc == utc("2024-05-12T07:00:00")
    assert activity.distance_m <= 3600.0
