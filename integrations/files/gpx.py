"""GPX reader: one activity per <trk>; GPX has no summary, so everything is computed from points.

Definitions (GPX states none of these):
- distance: great-circle sum between consecutive points within each <trkseg>, never across
  segments (a new segment means the recording was paused or lost its fix);
- points without usable lat/lon are ignored entirely, as if absent;
- start: the earliest point time; elapsed: latest minus earliest point time;
- moving time: the intervals between consecutive timed points of a segment that last at most
  MOVING_MAX_GAP_S and cover ground at MOVING_MIN_SPEED_MPS or faster;
- elevation gain: rises in <ele> with light smoothing (see trackxml.climb_m), per segment;
- sport: <trk><type> mapped by sports.sport_from_label; no type means Sport.UNKNOWN.
The file is streamed: points are released once counted, so memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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

MOVING_MIN_SPEED_MPS = 0.5  # slower than the slowest walk: standing still plus GPS jitter
MOVING_MAX_GAP_S = 120.0  # a longer silence is a pause, whatever the points around it say
_TAGS = ("{*}metadata", "{*}trkpt", "{*}trkseg", "{*}trk")

Position = tuple[float, float]


@dataclass(slots=True)
class _Segment:
    """Running totals of the segment being read."""

    distance_m: float = 0.0
    moving_s: float = 0.0
    elevations: list[float] = field(default_factory=list)
    last_position: Position | None = None
    last_timed: tuple[datetime, Position] | None = None

    def add(self, position: Position, elevation: float | None, moment: datetime | None) -> None:
        if self.last_position is not None:
            self.distance_m += haversine_m(self.last_position, position)
        self.last_position = position
        if elevation is not None:
            self.elevations.append(elevation)
        if moment is None:
            return
        if self.last_timed is not None:
            seconds = (moment - self.last_timed[0]).total_seconds()
            metres = haversine_m(self.last_timed[1], position)
            if 0 < seconds <= MOVING_MAX_GAP_S and metres >= MOVING_MIN_SPEED_MPS * seconds:
                self.moving_s += seconds
        self.last_timed = (moment, position)


@dataclass(slots=True)
class _Track:
    """Running totals of the track being read, over its finished segments."""

    segment: _Segment = field(default_factory=_Segment)
    distance_m: float = 0.0
    moving_s: float = 0.0
    climb_m: float = 0.0
    elevations: int = 0
    timed: int = 0
    first: Stamp | None = None
    last: datetime | None = None

    def add_point(self, point: etree._Element) -> None:
        position = valid_position(to_float(point.get("lat")), to_float(point.get("lon")))
        if position is None:
            return
        elevation, stamp = None, None
        for child in point:
            name = local_name(child.tag)
            if name == "ele":
                elevation = to_float(child.text)
            elif name == "time":
                stamp = parse_time(child.text)
        self.segment.add(position, elevation, stamp.utc if stamp else None)
        if stamp is not None:
            self.timed += 1
            if self.first is None or stamp.utc < self.first.utc:
                self.first = stamp
            if self.last is None or stamp.utc > self.last:
                self.last = stamp.utc

    def end_segment(self) -> None:
        segment, self.segment = self.segment, _Segment()
        self.distance_m += segment.distance_m
        self.moving_s += segment.moving_s
        self.climb_m += climb_m(segment.elevations)
        self.elevations += len(segment.elevations)


@never_raises_other("GPX")
def read(data: bytes) -> list[ExternalActivity]:
    """Read every track of a GPX file that has at least one timed point."""
    activities: list[ExternalActivity] = []
    track, default_name = _Track(), None
    for element in iter_elements(data, "gpx", "GPX", _TAGS):
        name = local_name(element.tag)
        if name == "trkpt":
            track.add_point(element)
            release(element)
        elif name == "trkseg":
            track.end_segment()
            element.clear()
        elif name == "trk":
            track.end_segment()
            activity = _activity(track, element, str(len(activities)), default_name)
            if activity is not None:
                activities.append(activity)
            track = _Track()
            element.clear()
        elif name == "metadata":
            default_name = child_text(element, "name")
    if not activities:
        raise BadFile("GPX file has no track points with a time")
    return activities


def _activity(
    track: _Track, element: etree._Element, source_id: str, default_name: str | None
) -> ExternalActivity | None:
    if track.first is None or track.last is None:
        return None
    label = child_text(element, "type")
    return ExternalActivity(
        source="gpx",
        source_id=source_id,
        sport=sport_from_label(label),
        start_utc=track.first.utc,
        distance_m=track.distance_m,
        utc_offset_s=track.first.offset_s,
        moving_s=track.moving_s if track.timed > 1 else None,
        elapsed_s=(track.last - track.first.utc).total_seconds(),
        elevation_gain_m=track.climb_m if track.elevations > 1 else None,
        name=child_text(element, "name") or default_name,
        source_sport=label,
    )
