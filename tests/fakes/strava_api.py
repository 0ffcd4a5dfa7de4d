"""The fake Strava's athletes and activities, and the three read endpoints the app uses:
`/api/v3/athlete`, `/api/v3/athlete/activities` and `/api/v3/activities/{id}`.

Activities are stored in Strava's own JSON shape (DetailedActivity); listings strip them to
SummaryActivity. Not thread-safe on its own: the FakeStrava around it serialises every call.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.strava_wire import StravaError
from tests.fakes.wire import Call

Json = dict[str, Any]
# sport_type -> the deprecated `type` Strava still sends; anything newer is "Workout" there.
LEGACY_TYPES = {
    "Run": "Run", "TrailRun": "Run", "VirtualRun": "VirtualRun", "Walk": "Walk", "Hike": "Hike",
    "Ride": "Ride", "MountainBikeRide": "Ride", "GravelRide": "Ride", "EBikeRide": "EBikeRide",
    "EMountainBikeRide": "EBikeRide", "VirtualRide": "VirtualRide", "Swim": "Swim",
    "WeightTraining": "WeightTraining", "Workout": "Workout", "Yoga": "Yoga", "Rowing": "Rowing",
    "Elliptical": "Elliptical", "NordicSki": "NordicSki", "AlpineSki": "AlpineSki",
}  # fmt: skip
DETAIL_ONLY = ("description", "calories", "device_name", "embed_token", "laps", "splits_metric",
               "gear", "segment_efforts", "photos")  # fmt: skip
MAX_EPOCH_S = 10**11  # later than year 5000: a millisecond timestamp, which Strava refuses
MAX_PER_PAGE = 200


@dataclass
class Athlete:
    id: int
    firstname: str
    lastname: str
    city: str = "Berlin"
    country: str = "Germany"

    def summary(self) -> Json:
        return {"id": self.id, "username": f"{self.firstname.lower()}{self.id}",
                "resource_state": 2, "firstname": self.firstname, "lastname": self.lastname,
                "bio": None, "city": self.city, "state": None, "country": self.country,
                "sex": None, "premium": False, "summit": False,
                "created_at": "2019-03-01T08:00:00Z", "updated_at": "2025-01-01T08:00:00Z",
                "badge_type_id": 0, "weight": None, "profile": "avatar/athlete/large.png",
                "profile_medium": "avatar/athlete/medium.png", "friend": None,
                "follower": None}  # fmt: skip

    def detailed(self) -> Json:
        return self.summary() | {"resource_state": 3, "follower_count": 0, "friend_count": 0,
                                 "measurement_preference": "meters", "ftp": None,
                                 "clubs": [], "bikes": [], "shoes": []}  # fmt: skip


@dataclass
class Stored:
    owner: int
    start: datetime  # aware UTC
    body: Json  # DetailedActivity

    @property
    def private(self) -> bool:
        return bool(self.body.get("private"))


def strava_timezone(name: str, when: datetime) -> str:
    """Strava's "(GMT+01:00) Europe/Berlin": the zone's standard offset, whatever the date."""
    zone = ZoneInfo(name)
    year = when.year
    offsets = [datetime(year, m, 1, tzinfo=zone).utcoffset() or timedelta() for m in (1, 7)]
    minutes = int(min(offsets).total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"(GMT{sign}{hours:02d}:{rest:02d}) {name}"


def activity_body(
    activity_id: int, owner: int, start: datetime, timezone: str, **fields: Any
) -> Json:
    """A DetailedActivity as Strava sends it; `fields` override or add any key."""
    zone = ZoneInfo(timezone)
    local = start.astimezone(zone)
    sport_type = fields.pop("sport_type", "Run")
    distance = float(fields.pop("distance", 10000.0))
    moving = int(fields.pop("moving_time", 3000))
    body: Json = {
        "resource_state": 3, "athlete": {"id": owner, "resource_state": 1},
        "name": fields.pop("name", f"Morning {sport_type}"), "distance": distance,
        "moving_time": moving, "elapsed_time": int(fields.pop("elapsed_time", moving + 60)),
        "total_elevation_gain": float(fields.pop("total_elevation_gain", 42.0)),
        "type": LEGACY_TYPES.get(sport_type, "Workout"), "sport_type": sport_type,
        "workout_type": fields.pop("workout_type", None), "id": activity_id,
        "start_date": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ"),  # local wall time, with a Z
        "timezone": strava_timezone(timezone, start),
        "utc_offset": (local.utcoffset() or timedelta()).total_seconds(),
        "location_city": None, "location_state": None, "location_country": "Germany",
        "achievement_count": 0, "kudos_count": 0, "comment_count": 0, "athlete_count": 1,
        "photo_count": 0, "map": {"id": f"a{activity_id}", "summary_polyline": "",
                                  "resource_state": 2},
        "trainer": sport_type in {"VirtualRun", "VirtualRide"}, "commute": False,
        "manual": False, "private": False, "visibility": "everyone", "flagged": False,
        "gear_id": None, "start_latlng": [52.52, 13.405], "end_latlng": [52.52, 13.405],
        "average_speed": round(distance / moving, 3) if moving else 0.0, "max_speed": 4.2,
        "has_heartrate": False, "heartrate_opt_out": False, "display_hide_heartrate_option": False,
        "elev_high": 60.0, "elev_low": 30.0, "upload_id": activity_id * 10,
        "upload_id_str": str(activity_id * 10), "external_id": f"garmin_push_{activity_id}",
        "from_accepted_tag": False, "pr_count": 0, "total_photo_count": 0, "has_kudoed": False,
        "description": "", "calories": 600.0, "device_name": "Garmin Forerunner 265",
        "embed_token": "0" * 40, "laps": [], "splits_metric": [], "segment_efforts": [],
    }  # fmt: skip
    body.update(fields)
    if body["private"]:
        body["visibility"] = "only_me"
    return body


class StravaData:
    """Athletes and their activities, with the API's read endpoints on top."""

    def __init__(self) -> None:
        self.athletes: dict[int, Athlete] = {}
        self.activities: dict[int, Stored] = {}
        self._by_owner: dict[int, dict[int, Stored]] = {}
        self._athlete_ids = itertools.count(31_000_001)
        self._activity_ids = itertools.count(14_000_000_001)  # beyond 32 bits, like Strava's

    def add_athlete(self, firstname: str, lastname: str) -> Athlete:
        athlete = Athlete(next(self._athlete_ids), firstname, lastname)
        self.athletes[athlete.id] = athlete
        return athlete

    def add_activity(self, owner: int, start: datetime, timezone: str, fields: Json) -> Json:
        if owner not in self.athletes:
            raise KeyError(f"no athlete {owner}")
        if start.tzinfo is None:
            start = start.replace(tzinfo=ZoneInfo(timezone))
        activity_id = next(self._activity_ids)
        body = activity_body(activity_id, owner, start, timezone, **fields)
        stored = Stored(owner, start.astimezone(UTC), body)
        self.activities[activity_id] = self._by_owner.setdefault(owner, {})[activity_id] = stored
        return copy.deepcopy(body)

    def remove(self, activity_id: int) -> Stored:
        stored = self.activities.pop(activity_id)
        del self._by_owner[stored.owner][activity_id]
        return stored

    def of(self, owner: int) -> list[Stored]:
        """The athlete's activities, oldest first."""
        return sorted(self._by_owner.get(owner, {}).values(), key=lambda s: s.start)

    # -- endpoints -------------------------------------------------------------------------

    def athlete(self, athlete_id: int) -> Json:
        return self.athletes[athlete_id].detailed()

    def list_activities(self, call: Call, athlete_id: int, scopes: frozenset[str]) -> list[Json]:
        """GET /athlete/activities: oldest first when only `after` is given, else newest first."""
        _need_activity_scope(scopes)
        before, after = _epoch(call, "before"), _epoch(call, "after")
        page = max(1, _int(call, "page", 1))
        per_page = min(MAX_PER_PAGE, max(1, _int(call, "per_page", 30)))
        chosen = [
            s for s in self._by_owner.get(athlete_id, {}).values()
            if _visible(s, scopes)
            and (after is None or s.start.timestamp() > after)
            and (before is None or s.start.timestamp() < before)
        ]  # fmt: skip
        ascending = after is not None and before is None
        chosen.sort(key=lambda s: (s.start, s.body["id"]), reverse=not ascending)
        window = chosen[(page - 1) * per_page : page * per_page]
        return [_summary(s.body) for s in window]

    def activity(self, activity_id: str, athlete_id: int, scopes: frozenset[str]) -> Json:
        _need_activity_scope(scopes)
        stored = self.activities.get(int(activity_id)) if activity_id.isdigit() else None
        if stored is None or stored.owner != athlete_id or not _visible(stored, scopes):
            raise StravaError(404, "Record Not Found", "Activity", "id", "invalid")
        return copy.deepcopy(stored.body)


def _need_activity_scope(scopes: frozenset[str]) -> None:
    if not scopes & {"activity:read", "activity:read_all"}:
        raise StravaError(
            401, "Authorization Error", "AccessToken", "activity:read_permission", "missing"
        )


def _visible(stored: Stored, scopes: frozenset[str]) -> bool:
    return not stored.private or "activity:read_all" in scopes


def _summary(body: Json) -> Json:
    summary = {k: copy.deepcopy(v) for k, v in body.items() if k not in DETAIL_ONLY}
    summary["resource_state"] = 2
    return summary


def _int(call: Call, name: str, default: int) -> int:
    raw = call.arg(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise StravaError(400, "Bad Request", "Activity", name, "invalid") from None


def _epoch(call: Call, name: str) -> int | None:
    """An epoch-seconds filter; milliseconds (or anything not an integer) is a 400."""
    raw = call.arg(name)
    if raw is None or raw == "":
        return None
    value = _int(call, name, 0)
    if not 0 <= value < MAX_EPOCH_S:
        raise StravaError(400, "Bad Request", "Activity", name, "invalid")
    return value
