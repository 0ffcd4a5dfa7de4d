"""Shared by the GPX and TCX readers: safe streaming XML parsing, timestamps, track arithmetic."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import NamedTuple

from lxml import etree

from integrations.errors import BadFile
from integrations.types import ExternalActivity

# WGS84 equatorial radius, as gpxpy uses. The real files' ground truth matches it within 0.002%;
# the IUGG mean radius (6371008.8 m) reads them 0.11% short. At mid latitudes the ellipsoid's
# radii of curvature (~6373-6391 km) bracket this value, so it is also nearer the geodesic there.
EARTH_RADIUS_M = 6378137.0
# Elevation gain: a centred 5-point moving average (endpoints kept), then only rises between
# elevations at least 2 m apart count, so GPS altitude jitter (often +-5 m from one point to the
# next) is not climbing.
CLIMB_SMOOTHING_POINTS = 5
CLIMB_HYSTERESIS_M = 2.0
_LEADING_JUNK = b"\xef\xbb\xbf \t\r\n"  # UTF-8 BOM and whitespace (Strava TCX starts with spaces)
_CHUNK_BYTES = 1 << 20

Reader = Callable[[bytes], list[ExternalActivity]]


class Stamp(NamedTuple):
    """A point in time as UTC, with the offset the file stated (None for Z, +00:00 or none)."""

    utc: datetime
    offset_s: int | None


def iter_elements(
    data: bytes, root_name: str, label: str, tags: Sequence[str]
) -> Iterator[etree._Element]:
    """Stream the elements with these tags as each one ends, parsing without entities, DTDs or
    network; checks the root element's name once the document is complete."""
    body = data.lstrip(_LEADING_JUNK)
    if not body:
        raise BadFile("empty file")
    parser = etree.XMLPullParser(
        events=("end",),
        tag=list(tags),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for start in range(0, len(body), _CHUNK_BYTES):
            parser.feed(body[start : start + _CHUNK_BYTES])
            for _event, element in parser.read_events():
                if isinstance(element, etree._Element):
                    yield element
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        detail = (exc.msg or "syntax error").splitlines()[0][:160]
        raise BadFile(f"malformed or truncated XML ({detail})") from None
    name = local_name(root.tag)
    if name != root_name:
        raise BadFile(f"not a {label} file (root element is <{name}>)")


def release(element: etree._Element) -> None:
    """Free a processed element and the processed siblings of its kind before it (flat memory)."""
    element.clear()
    parent = element.getparent()
    previous = element.getprevious()
    while parent is not None and previous is not None and previous.tag == element.tag:
        parent.remove(previous)
        previous = element.getprevious()


def local_name(tag: object) -> str:
    """A tag without its namespace; empty for comments and other non-element nodes."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def child_text(element: etree._Element, name: str) -> str | None:
    """The text of the first direct child with this local name, stripped, or None."""
    for child in element:
        if local_name(child.tag) == name:
            return child.text.strip() if child.text and child.text.strip() else None
    return None


def never_raises_other(label: str) -> Callable[[Reader], Reader]:
    """Turn any unexpected failure of a reader into BadFile, so callers catch one thing."""

    def wrap(reader: Reader) -> Reader:
        @functools.wraps(reader)
        def guarded(data: bytes) -> list[ExternalActivity]:
            try:
                return reader(data)
            except BadFile:
                raise
            except Exception as exc:  # a broken file must never crash an import
                raise BadFile(f"unreadable {label} file ({type(exc).__name__})") from None

        return guarded

    return wrap


def parse_time(text: str | None) -> Stamp | None:
    """An ISO 8601 time as UTC; times without an offset are UTC (both GPX and TCX say so)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
        if moment.tzinfo is None:
            return Stamp(moment.replace(tzinfo=UTC), None)
        offset = moment.utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return Stamp(moment.astimezone(UTC), seconds or None)
    except (ValueError, OverflowError):
        return None


def to_float(text: str | None) -> float | None:
    """A finite number, or None for missing or unparsable text."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def valid_position(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """The coordinates when both are present and on the globe."""
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    return (lat, lon)


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points in degrees."""
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlat, dlon = lat2 - lat1, math.radians(b[1] - a[1])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def path_length_m(positions: Sequence[tuple[float, float]]) -> float:
    """Sum of great-circle distances between consecutive positions of one unbroken segment."""
    return sum(haversine_m(a, b) for a, b in pairwise(positions))


def climb_m(elevations: Sequence[float]) -> float:
    """Total ascent of one segment: a centred moving average, then a hysteresis on the rises."""
    if not elevations:
        return 0.0
    smoothed = _moving_average(elevations, CLIMB_SMOOTHING_POINTS)
    kept, gain = smoothed[0], 0.0
    for elevation in smoothed[1:]:
        if abs(elevation - kept) >= CLIMB_HYSTERESIS_M:
            gain += max(0.0, elevation - kept)
            kept = elevation
    return gain


def _moving_average(values: Sequence[float], width: int) -> list[float]:
    """Centred mean over up to ``width`` values, narrowing near the ends so they stay put."""
    prefix = [0.0]
    for value in values:
        prefix.append(prefix[-1] + value)
    out = []
    for i in range(len(values)):
        half = min(width // 2, i, len(values) - 1 - i)
        out.append((prefix[i + half + 1] - prefix[i - half]) / (2 * half + 1))
    return out
