"""Strava activity JSON (summary or detailed) -> ExternalActivity."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.types import ExternalActivity, Sport

SOURCE = "strava"
LONG_RUN_NOTE = " (long run)"  # appended to source_sport for workout_type 2
_RACE_TYPES = frozenset({1, 11})  # run race, ride race
_WORKOUT_TYPES = frozenset({3, 12})  # run workout, ride workout
_LONG_RUN_TYPE = 2
_SPORTS = {
    "Run": Sport.RUN,
    "TrailRun": Sport.TRAIL_RUN,
    "VirtualRun": Sport.TREADMILL_RUN,
    "Walk": Sport.WALK,
    "Hike": Sport.HIKE,
    "Ride": Sport.RIDE,
    "VirtualRide": Sport.RIDE,
    "MountainBikeRide": Sport.RIDE,
    "GravelRide": Sport.RIDE,
    "EBikeRide": Sport.RIDE,
    "EMountainBikeRide": Sport.RIDE,
    "Velomobile": Sport.RIDE,
    "Handcycle": Sport.RIDE,
    "Swim": Sport.SWIM,
}
MAX_OFFSET_S = 18 * 3600
_GMT = re.compile(r"\(GMT([+-])(\d{1,2}):(\d{2})\)")


def sport_of(sport_type: object, *, trainer: bool = False) -> Sport:
    """Our sport for Strava's ``sport_type``; a Run on a trainer is a treadmill run."""
    if not isinstance(sport_type, str) or not sport_type:
        return Sport.UNKNOWN
    sport = _SPORTS.get(sport_type, Sport.OTHER)
    return Sport.TREADMILL_RUN if sport is Sport.RUN and trainer else sport


def offset_at(timezone: object, start_utc: datetime, utc_offset: object = None) -> int | None:
    """Seconds east of UTC at ``start_utc`` for a Strava ``timezone`` like
    "(GMT+01:00) Europe/Berlin": the IANA zone if we know it, else ``utc_offset``, else the
    fixed "(GMT...)" part, which is the zone's standard offset and so wrong in summer."""
    text = timezone if isinstance(timezone, str) else ""
    name = text.rsplit(")", 1)[-1].strip()
    if name:
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            delta = start_utc.astimezone(zone).utcoffset()
            if delta is not None:
                return int(delta.total_seconds())
    if (
        isinstance(utc_offset, int | float)
        and not isinstance(utc_offset, bool)
        and math.isfinite(utc_offset)
        and abs(utc_offset) <= MAX_OFFSET_S
    ):
        return int(utc_offset)
    match = _GMT.search(text)
    if match is None:
        return None
    sign = -1 if match[1] == "-" else 1
    return sign * (int(match[2]) * 3600 + int(match[3]) * 60)


def parse_utc(value: object) -> datetime:
    """An aware UTC datetime from Strava's ISO 8601 ``start_date`` ("2026-03-01T07:02:11Z")."""
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return moment.astimezone(UTC)


def activity_from_json(raw: Mapping[str, Any]) -> ExternalActivity:
    """Map one activity; ValueError when it lacks an id or a start (e.g. resource_state 1)."""
    activity_id = raw.get("id")
    if not isinstance(activity_id, int) or isinstance(activity_id, bool):
        raise ValueError(f"activity without an id: {activity_id!r}")
    start = parse_utc(raw.get("start_date"))
    sport_type = raw.get("sport_type")
    workout_type = raw.get("workout_type")
    if not isinstance(workout_type, int):
        workout_type = None
    source_sport = sport_type if isinstance(sport_type, str) else None
    if workout_type == _LONG_RUN_TYPE and source_sport is not None:
        source_sport += LONG_RUN_NOTE
    return ExternalActivity(
        source=SOURCE,
        source_id=str(activity_id),
        sport=sport_of(sport_type, trainer=raw.get("trainer") is True),
        start_utc=start,
        distance_m=non_negative(raw.get("distance")) or 0.0,
        utc_offset_s=offset_at(raw.get("timezone"), start, raw.get("utc_offset")),
        moving_s=non_negative(raw.get("moving_time")),
        elapsed_s=non_negative(raw.get("elapsed_time")),
        elevation_gain_m=non_negative(raw.get("total_elevation_gain")),
        is_race=workout_type in _RACE_TYPES,
        is_workout=workout_type in _WORKOUT_TYPES,
        name=raw.get("name") if isinstance(raw.get("name"), str) else None,
        source_sport=source_sport,
    )


def is_long_run(activity: ExternalActivity) -> bool:
    """Whether Strava marked the activity as a long run (workout_type 2)."""
    return activity.source == SOURCE and (activity.source_sport or "").endswith(LONG_RUN_NOTE)


def non_negative(value: object) -> float | None:
    """A finite number >= 0 from JSON, else None (booleans, strings, NaN, negatives)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None
