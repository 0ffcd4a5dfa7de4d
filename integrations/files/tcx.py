"""TCX reader: one activity per <Activity>, and one per leg of a <MultiSportSession>.

Definitions:
- distance: the sum of Lap/DistanceMeters; when a lap lacks it (or all laps say 0), the
  trackpoints' cumulative DistanceMeters (last minus first), else the great-circle sum of
  their positions within each <Track>;
- start: the first Lap's StartTime, else Activity/Id (multisport legs may all carry the
  session's Id, while each leg's first lap starts when that leg did), else the first point;
- moving time: the sum of Lap/TotalTimeSeconds (the device's timer time);
- elapsed: from the start to the last trackpoint time (else to the end of the last lap);
- elevation gain: rises in trackpoint AltitudeMeters with light smoothing, per <Track>.
Multisport transitions and courses are not activities. The file is streamed: trackpoints are
released once counted, so memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from integrations.errors import BadFile
from integrations.types import ExternalActivity

from .sports import sport_from_label
from .trackxml import (
    Stamp,
    child_text,
    climb_m,
    haversine_m,
    iter_elements,
    local_name,
    never_raises_other,
    parse_time,
    release,
    to_float,
    valid_position,
)

_TAGS = ("{*}Trackpoint", "{*}Track", "{*}Lap", "{*}Transition", "{*}Course", "{*}Activity")


@dataclass(frozen=True, slots=True)
class _Lap:
    start: Stamp | None
    seconds: float | None
    distance_m: float | None


@dataclass(slots=True)
class _Points:
    """What trackpoints say, summed as they stream by (for one lap, then one activity)."""

    first: Stamp | None = None
    last: datetime | None = None
    first_cumulative_m: float | None = None
    last_cumulative_m: float | None = None
    path_m: float = 0.0
    climb_m: float = 0.0
    altitudes: int = 0
    track_position: tuple[float, float] | None = None
    track_altitudes: list[float] = field(default_factory=list)

    def add(self, point: etree._Element) -> None:
        lat = lon = None
        for child in point:
            name = local_name(child.tag)
            if name == "Time":
                self._add_stamp(parse_time(child.text))
            elif name == "DistanceMeters":
                self._add_cumulative(to_float(child.text))
            elif name == "AltitudeMeters" and (altitude := to_float(child.text)) is not None:
                self.track_altitudes.append(altitude)
            elif name == "Position":
                lat = to_float(child_text(child, "LatitudeDegrees"))
                lon = to_float(child_text(child, "LongitudeDegrees"))
        position = valid_position(lat, lon)
        if position is not None:
            if self.track_position is not None:
                self.path_m += haversine_m(self.track_position, position)
            self.track_position = position

    def end_track(self) -> None:
        self.climb_m += climb_m(self.track_altitudes)
        self.altitudes += len(self.track_altitudes)
        self.track_position, self.track_altitudes = None, []

    def merge(self, other: _Points) -> None:
        self._add_stamp(other.first)
        if other.last is not None and (self.last is None or other.last > self.last):
            self.last = other.last
        self._add_cumulative(other.first_cumulative_m)
        self._add_cumulative(other.last_cumulative_m)
        self.path_m += other.path_m
        self.climb_m += other.climb_m
        self.altitudes += other.altitudes

    def _add_stamp(self, stamp: Stamp | None) -> None:
        if stamp is None:
            return
        if self.first is None or stamp.utc < self.first.utc:
            self.first = stamp
        if self.last is None or stamp.utc > self.last:
            self.last = stamp.utc

    def _add_cumulative(self, metres: float | None) -> None:
        if metres is None:
            return
        if self.first_cumulative_m is None:
            self.first_cumulative_m = metres
        self.last_cumulative_m = metres


@dataclass(slots=True)
class _Activity:
    """The laps and points of the activity being read."""

    laps: list[_Lap] = field(default_factory=list)
    points: _Points = field(default_factory=_Points)


@never_raises_other("TCX")
def read(data: bytes) -> list[ExternalActivity]:
    """Read every activity (and every multisport leg) that has a start time."""
    activities: list[ExternalActivity] = []
    current, pending = _Activity(), _Points()
    for element in iter_elements(data, "TrainingCenterDatabase", "TCX", _TAGS):
        name = local_name(element.tag)
        if name == "Trackpoint":
            pending.add(element)
            release(element)
            continue
        pending.end_track()
        if name == "Lap" and _parent_name(element) == "Activity":
            current.laps.append(_lap(element))
            current.points.merge(pending)
        if name in ("Lap", "Transition", "Course"):
            pending = _Points()
        elif name == "Activity":
            current.points.merge(pending)
            activity = _activity(element, current, str(len(activities)))
            if activity is not None:
                activities.append(activity)
            current, pending = _Activity(), _Points()
        element.clear()
    if not activities:
        raise BadFile("TCX file has no activity with a lap or start time")
    return activities


def _parent_name(element: etree._Element) -> str:
    parent = element.getparent()
    return local_name(parent.tag) if parent is not None else ""


def _lap(lap: etree._Element) -> _Lap:
    return _Lap(
        start=parse_time(lap.get("StartTime")),
        seconds=to_float(child_text(lap, "TotalTimeSeconds")),
        distance_m=to_float(child_text(lap, "DistanceMeters")),
    )


def _activity(
    element: etree._Element, current: _Activity, source_id: str
) -> ExternalActivity | None:
    laps, points = current.laps, current.points
    start = _start(element, laps, points)
    if start is None:
        return None
    seconds = [lap.seconds for lap in laps if lap.seconds is not None]
    label = element.get("Sport")
    return ExternalActivity(
        source="tcx",
        source_id=source_id,
        sport=sport_from_label(label),
        start_utc=start.utc,
        distance_m=_distance_m(laps, points),
        utc_offset_s=start.offset_s,
        moving_s=sum(seconds) if seconds else None,
        elapsed_s=_elapsed_s(start, laps, points),
        elevation_gain_m=points.climb_m if points.altitudes > 1 else None,
        source_sport=label,
    )


def _start(element: etree._Element, laps: list[_Lap], points: _Points) -> Stamp | None:
    if laps and laps[0].start is not None:
        return laps[0].start
    declared = parse_time(child_text(element, "Id"))
    if declared is not None:
        return declared
    lap_starts = [lap.start for lap in laps if lap.start is not None]
    if lap_starts:
        return min(lap_starts, key=lambda stamp: stamp.utc)
    return points.first


def _distance_m(laps: list[_Lap], points: _Points) -> float:
    lap_total = sum(lap.distance_m or 0.0 for lap in laps)
    if laps and all(lap.distance_m is not None for lap in laps) and lap_total > 0:
        return lap_total
    first, last = points.first_cumulative_m, points.last_cumulative_m
    if first is not None and last is not None and last > first:
        return last - first
    if points.path_m > 0:
        return points.path_m
    return lap_total


def _elapsed_s(start: Stamp, laps: list[_Lap], points: _Points) -> float | None:
    if points.last is not None and points.last > start.utc:
        return (points.last - start.utc).total_seconds()
    ends = [
        lap.start.utc + timedelta(seconds=lap.seconds)
        for lap in laps
        if lap.start is not None and lap.seconds is not None
    ]
    if ends and max(ends) > start.utc:
        return (max(ends) - start.utc).total_seconds()
    return None
