"""Generate the FIT test fixtures with fit-tool, an encoder independent of the reader under test.

Run from the repository root: ``.venv/bin/python tests/data/fit/make_fixtures.py``. It rewrites
the files next to this script; the values the tests expect follow from the constants here.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fit_tool.base_type import BaseType
from fit_tool.developer_field import DeveloperField
from fit_tool.endian import Endian
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.developer_data_id_message import DeveloperDataIdMessage
from fit_tool.profile.messages.field_description_message import FieldDescriptionMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.monitoring_message import MonitoringMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.messages.sport_message import SportMessage
from fit_tool.profile.profile_type import FileType, Manufacturer, Sport, SubSport
from fit_tool.record import RecordHeader

HERE = Path(__file__).resolve().parent
FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
BERLIN_CEST = 7200  # Europe/Berlin after the 2026-03-29 switch to summer time


def unix_ms(t: datetime) -> int:
    """fit-tool takes date_time values as Unix milliseconds."""
    return round(t.timestamp() * 1000)


def fit_s(t: datetime) -> int:
    """Seconds since the FIT epoch (local_timestamp is written raw)."""
    return int((t - FIT_EPOCH).total_seconds())


@dataclass
class Leg:
    """One recorded stretch: constant speed, a record every ``step`` seconds."""

    start: datetime
    seconds: int
    speed: float  # m/s
    sport: Sport = Sport.RUNNING
    sub_sport: SubSport = SubSport.GENERIC
    step: int = 5
    lap_m: float = 1000.0

    def at(self, i: int) -> tuple[datetime, float]:
        """Time and distance (m) of the i-th record."""
        return self.start + timedelta(seconds=i * self.step), i * self.step * self.speed

    @property
    def count(self) -> int:
        return self.seconds // self.step + 1

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    @property
    def distance(self) -> float:
        return self.seconds * self.speed


def new_builder(kind: FileType = FileType.ACTIVITY, created: datetime | None = None):
    """A builder holding the file_id message."""
    builder = FitFileBuilder(auto_define=True, min_string_size=16)
    file_id = FileIdMessage()
    file_id.type = kind
    file_id.manufacturer = Manufacturer.DEVELOPMENT.value
    file_id.product = 1
    file_id.serial_number = 0x1234ABCD
    file_id.time_created = unix_ms(created or datetime(2024, 5, 12, 7, 0, tzinfo=UTC))
    builder.add(file_id)
    return builder


def add_records(builder, leg: Leg, endian=Endian.LITTLE, upto: int | None = None, dev=None):
    """Records with position, distance, speed, heart rate, cadence and altitude."""
    for i in range(leg.count if upto is None else upto):
        t, distance = leg.at(i)
        record = RecordMessage(endian=endian, developer_fields=dev(i) if dev else None)
        record.timestamp = unix_ms(t)
        record.position_lat = 52.5 + distance / 111_000
        record.position_long = 13.4
        record.distance = distance
        record.speed = leg.speed
        record.heart_rate = 140 + i % 20
        record.cadence = 85
        record.altitude = 40.0 + (i % 50) / 10
        builder.add(record)


def lap_message(start: datetime, seconds: float, meters: float, leg: Leg, endian=Endian.LITTLE):
    """One lap summary."""
    lap = LapMessage(endian=endian)
    lap.timestamp = unix_ms(start + timedelta(seconds=seconds))
    lap.start_time = unix_ms(start)
    lap.total_elapsed_time = seconds
    lap.total_timer_time = seconds
    lap.total_distance = meters
    lap.total_ascent = 3
    lap.sport = leg.sport
    lap.sub_sport = leg.sub_sport
    return lap


def add_laps(builder, leg: Leg, drop_last: bool = False, endian=Endian.LITTLE) -> int:
    """Laps every ``leg.lap_m`` metres plus the final partial one; returns the lap count."""
    done, laps = 0.0, []
    while done < leg.distance - 1e-6:
        meters = min(leg.lap_m, leg.distance - done)
        start = leg.start + timedelta(seconds=done / leg.speed)
        laps.append(lap_message(start, meters / leg.speed, meters, leg, endian))
        done += meters
    if drop_last:
        laps.pop()
    for lap in laps:
        builder.add(lap)
    return len(laps)


def session_message(leg: Leg, laps: tuple[int, int], distance: bool = True, endian=Endian.LITTLE):
    """The session summary of a leg; ``laps`` is (first_lap_index, num_laps)."""
    session = SessionMessage(endian=endian)
    session.timestamp = unix_ms(leg.end)
    session.start_time = unix_ms(leg.start)
    session.total_elapsed_time = leg.seconds
    session.total_timer_time = leg.seconds
    if distance:
        session.total_distance = leg.distance
    session.total_ascent = 12
    session.sport = leg.sport
    session.sub_sport = leg.sub_sport
    session.first_lap_index, session.num_laps = laps
    return session


def activity_message(end: datetime, sessions: int, offset: int | None, endian=Endian.LITTLE):
    """The closing activity message; local_timestamp = timestamp + offset when given."""
    activity = ActivityMessage(endian=endian)
    activity.timestamp = unix_ms(end)
    activity.num_sessions = sessions
    if offset is not None:
        activity.local_timestamp = fit_s(end) + offset
    return activity


def sport_message(leg: Leg):
    """The sport message devices write at the start of a recording."""
    sport = SportMessage()
    sport.sport = leg.sport
    sport.sub_sport = leg.sub_sport
    return sport


def single_run(leg: Leg, offset: int | None = 7200, endian=Endian.LITTLE) -> bytes:
    """A complete one-session run: file_id, sport, records, laps, session, activity."""
    builder = new_builder(created=leg.start)
    builder.add(sport_message(leg))
    add_records(builder, leg, endian)
    laps = add_laps(builder, leg, endian=endian)
    builder.add(session_message(leg, (0, laps), endian=endian))
    builder.add(activity_message(leg.end, 1, offset, endian))
    return builder.build().to_bytes()


RUN = Leg(datetime(2024, 5, 12, 7, 0, tzinfo=UTC), 1200, 3.0, step=2)


def duathlon() -> bytes:
    """Run, transition, bike, transition, run: five sessions, each after its own leg."""
    t = datetime(2024, 9, 8, 8, 0, tzinfo=UTC)
    legs = []
    for seconds, speed, sport, sub in (
        (900, 3.3, Sport.RUNNING, SubSport.GENERIC),
        (60, 1.0, Sport.TRANSITION, SubSport.GENERIC),
        (1800, 8.0, Sport.CYCLING, SubSport.ROAD),
        (45, 1.0, Sport.TRANSITION, SubSport.GENERIC),
        (600, 3.2, Sport.RUNNING, SubSport.GENERIC),
    ):
        legs.append(Leg(t, seconds, speed, sport, sub, step=5, lap_m=5000.0))
        t = legs[-1].end
    builder = new_builder(created=legs[0].start)
    lap_index = 0
    for leg in legs:
        add_records(builder, leg)
        laps = add_laps(builder, leg)
        builder.add(session_message(leg, (lap_index, laps)))
        lap_index += laps
    builder.add(activity_message(legs[-1].end, len(legs), 7200))
    return builder.build().to_bytes()


def without_total_distance(leg: Leg, drop_last_lap: bool, record_share: float) -> bytes:
    """A session lacking total_distance; laps and records disagree on purpose."""
    builder = new_builder(created=leg.start)
    builder.add(sport_message(leg))
    add_records(builder, leg, upto=int(leg.count * record_share))
    laps = add_laps(builder, leg, drop_last=drop_last_lap)
    builder.add(session_message(leg, (0, laps), distance=False))
    builder.add(activity_message(leg.end, 1, 7200))
    return builder.build().to_bytes()


def monitoring() -> bytes:
    """A daily monitoring file (file type monitoring_b), no activity in it."""
    builder = new_builder(FileType.MONITORING_B)
    for i in range(20):
        message = MonitoringMessage()
        message.timestamp = unix_ms(datetime(2024, 5, 12, 0, 0, tzinfo=UTC) + timedelta(minutes=i))
        message.heart_rate = 60 + i
        builder.add(message)
    return builder.build().to_bytes()


def device_relative() -> bytes:
    """A run whose timestamps count from the device's power-on (below 0x10000000)."""
    since_boot = FIT_EPOCH + timedelta(seconds=5000)
    leg = Leg(since_boot, 600, 3.0, step=5)
    return single_run(leg, offset=None)


def dev_named_like_native() -> bytes:
    """Developer fields called "distance" (records) and "total_distance" (session) with junk.

    The session has no native total_distance, so the native record distance must win.
    """
    leg = Leg(datetime(2024, 7, 3, 17, 45, tzinfo=UTC), 600, 3.0, step=5)
    builder = new_builder(created=leg.start)
    dev_id = DeveloperDataIdMessage()
    dev_id.developer_data_index = 0
    dev_id.application_id = bytes(range(16))
    builder.add(dev_id)
    for num, name in ((0, "distance"), (1, "total_distance")):
        description = FieldDescriptionMessage()
        description.developer_data_index = 0
        description.field_definition_number = num
        description.fit_base_type_id = BaseType.UINT32.value
        description.field_name = name
        description.units = "m"
        builder.add(description)

    def junk(num: int, name: str) -> list[DeveloperField]:
        field = DeveloperField(
            developer_data_index=0, field_id=num, size=4, base_type=BaseType.UINT32, name=name
        )
        field.set_value(0, 987_654)
        return [field]

    add_records(builder, leg, dev=lambda i: junk(0, "distance"))
    session = session_message(leg, (0, 0), distance=False)
    session.developer_fields = junk(1, "total_distance")
    builder.add(session)
    builder.add(activity_message(leg.end, 1, 7200))
    return builder.build().to_bytes()


def dst_berlin() -> bytes:
    """Starts 23:30 local (CEST, UTC+2) on 2026-03-29, the day Berlin moved to summer time."""
    leg = Leg(datetime(2026, 3, 29, 21, 30, tzinfo=UTC), 2700, 2.8, step=5)
    return single_run(leg, offset=BERLIN_CEST)


def truncated() -> bytes:
    """A run cut in the middle of record number CUT_RECORD (no laps, session or activity)."""
    leg = Leg(datetime(2024, 8, 20, 5, 15, tzinfo=UTC), 1200, 3.1, step=2)
    builder = new_builder(created=leg.start)
    builder.add(sport_message(leg))
    add_records(builder, leg)
    data = builder.build().to_bytes()
    offset, seen = data[0], 0  # walk fit-tool's records to find where that record starts
    for record in builder.records:
        if not record.is_definition and record.message.global_id == RecordMessage.ID:
            if seen == CUT_RECORD:
                return data[: offset + 5]
            seen += 1
        offset += record.size
    raise AssertionError("too few records")


CUT_RECORD = 400  # records 0..399 survive: last distance 399 * 2 s * 3.1 m/s = 2473.8 m


def big_endian() -> bytes:
    """A run written with big-endian data messages (as some non-Garmin devices do)."""
    leg = Leg(datetime(2024, 4, 2, 18, 0, tzinfo=UTC), 900, 2.9, step=3)
    return single_run(leg, offset=3600, endian=Endian.BIG)


def compressed_timestamps() -> bytes:
    """Records with compressed-timestamp headers; records go on 60 s past the session's end.

    The session has no total_distance and no laps, so the distance is the last record within
    [start, start + 600 s]: 600 s * 2.5 m/s = 1500 m, only found with the right clock.
    """
    leg = Leg(datetime(2024, 3, 3, 9, 0, 7, tzinfo=UTC), 600, 2.5, step=1)
    builder = new_builder(created=leg.start)
    builder.add(sport_message(leg))
    first = RecordMessage()
    first.timestamp = unix_ms(leg.start)
    first.distance = 0.0
    builder.add(first)
    for i in range(1, 661):
        t, distance = leg.at(i)
        record = RecordMessage(local_id=1)
        record.distance = distance
        record.heart_rate = 150
        builder.add(record)
        builder.records[-1].header = RecordHeader(
            is_time_compressed=True,
            is_definition=False,
            local_id=1,
            time_offset_seconds=fit_s(t) & 0x1F,
        )
    builder.add(session_message(leg, (0, 0), distance=False))
    builder.add(activity_message(leg.end + timedelta(seconds=60), 1, 0))
    return builder.build().to_bytes()


FIXTURES = {
    "run.fit": lambda: single_run(RUN),
    "duathlon.fit": duathlon,
    # laps 5 x 1000 m (the last 250 m lap is missing), records to 5250 m
    "no_total_distance_last_lap_missing.fit": lambda: without_total_distance(
        Leg(datetime(2024, 6, 1, 6, 30, tzinfo=UTC), 1500, 3.5), True, 1.0
    ),
    # laps 3 x 1000 m + 600 m, records stop after 70 % of the time
    "no_total_distance_laps_exceed_records.fit": lambda: without_total_distance(
        Leg(datetime(2024, 6, 2, 6, 30, tzinfo=UTC), 1200, 3.0), False, 0.7
    ),
    "monitoring.fit": monitoring,
    "device_relative_timestamps.fit": device_relative,
    "developer_field_named_distance.fit": dev_named_like_native,
    "dst_berlin_2026-03-29.fit": dst_berlin,
    "empty.fit": lambda: b"",
    "not_a_fit_file.fit": lambda: b"<html><body>Activity export failed</body></html>\n",
    "truncated_mid_records.fit": truncated,
    "big_endian.fit": big_endian,
    "compressed_timestamps.fit": compressed_timestamps,
}


def main() -> None:
    """Write every fixture (and the gzipped run) next to this script."""
    for name, make in FIXTURES.items():
        data = make()
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes")
    gz = gzip.compress((HERE / "run.fit").read_bytes(), mtime=0)
    (HERE / "run.fit.gz").write_bytes(gz)
    print(f"run.fit.gz: {len(gz)} bytes")


if __name__ == "__main__":
    main()
