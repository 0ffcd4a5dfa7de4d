"""The fake intervals.icu API on a loopback server: activities (with the empty stubs it returns
for activities that came from Strava), calendar events, and bulk upsert/delete of events.

Auth is a personal API key (basic auth, user `API_KEY`) or a bearer token, issued by the test or
through OAuth (`.oauth`, tests/fakes/intervals_oauth.py, whose tokens keep to their scopes);
athlete `0` in a path means the key's own athlete. Tests add activities and the runner's own
planned workouts, read the calendar back, make calls fail, and read the request log.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakes.google import Matcher
from tests.fakes.intervals_oauth import IntervalsOAuthServer
from tests.fakes.server import LoopbackServer
from tests.fakes.strava_wire import Fault, Hold, Logged, Recorder, bearer, call_of, respond
from tests.fakes.wire import Call, Reply, json_reply

__all__ = ["STRAVA_NOTE", "FakeIntervals", "IcuAthlete", "Logged"]
Json = dict[str, Any]
STRAVA_NOTE = "STRAVA activities are not available via the API"
ATHLETE_PATH = re.compile(r"^/api/v1/athlete/([^/]+)(/.*)?$")
EVENT_PATH = re.compile(r"^/events/(\d+)$")
LOCAL_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")  # no offset, no Z
CATEGORIES = {"WORKOUT", "RACE_A", "RACE_B", "RACE_C", "NOTE", "PLAN", "HOLIDAY", "SICK", "INJURED",
              "SET_EFTP", "FITNESS_DAYS", "SEASON_START", "TARGET", "SET_FITNESS"}  # fmt: skip


class IcuError(Exception):
    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message or HTTPStatus(status).phrase

    def reply(self, headers: dict[str, str] | None = None) -> Reply:
        body = {"status": self.status, "error": HTTPStatus(self.status).phrase,
                "message": self.message}  # fmt: skip
        return json_reply(self.status, body, headers)


@dataclass
class IcuAthlete:
    id: str
    api_key: str
    name: str = "Rita Runner"
    timezone: str = "Europe/Berlin"


@dataclass
class Event:
    athlete_id: str
    body: Json
    by_app: bool  # created through the API (upsert and delete by external_id only see these)


@dataclass
class _State:
    athletes: dict[str, IcuAthlete] = field(default_factory=dict)
    activities: dict[str, tuple[str, Json]] = field(default_factory=dict)  # id -> owner, body
    events: dict[int, Event] = field(default_factory=dict)
    bearer_tokens: dict[str, str] = field(default_factory=dict)  # token -> athlete id


class FakeIntervals:
    """intervals.icu's API v1 for a few athletes, state in memory, thread-safe."""

    def __init__(self, *, api_key: str = "fake-intervals-api-key") -> None:
        self._lock = threading.RLock()
        self._state = _State()
        self._athlete_ids = itertools.count(100_001)
        self._activity_ids = itertools.count(70_000_001)
        self._event_ids = itertools.count(50_000_001)
        self.recorder = Recorder()
        self.athlete = self.add_athlete(api_key)
        self.oauth = IntervalsOAuthServer(
            self.issue_bearer_token, lambda a: self._state.athletes[a].name, self.athlete.id
        )
        self._server = LoopbackServer(self)

    def start(self) -> FakeIntervals:
        self._server.start()
        return self

    def stop(self) -> None:
        self.recorder.release_all()
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_key(self) -> str:
        return self.athlete.api_key

    def settings_overrides(self, *, oauth: bool = False) -> dict[str, str]:
        """Settings that point the app here; ``oauth`` adds the registered app's id and secret."""
        app = {"intervals_client_id": self.oauth.client_id,
               "intervals_client_secret": self.oauth.client_secret}  # fmt: skip
        return {"intervals_api_root": self.url, **(app if oauth else {})}

    # -- HTTP ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        call = call_of(environ)
        entry, fault = self.recorder.enter(call, _credential(call))
        reply = fault.reply() if fault is not None else self._dispatch(call)
        entry.status = reply.status
        return respond(reply, environ, start_response)

    def _dispatch(self, call: Call) -> Reply:
        try:
            with self._lock:
                if self.oauth.handles(call.path):
                    return self.oauth.route(call)
                athlete = self._authorised(call)
                match = ATHLETE_PATH.match(call.path)
                if match is None:
                    raise IcuError(404)
                if match[1] not in {"0", athlete.id}:
                    raise IcuError(403, "Access denied")
                if not self.oauth.permits(bearer(call), call.method, match[2] or ""):
                    raise IcuError(403, "The token's scope does not allow this")
                return self._route(call, athlete, match[2] or "")
        except IcuError as error:
            return error.reply()

    def _route(self, call: Call, athlete: IcuAthlete, rest: str) -> Reply:
        own = athlete.id
        handlers: dict[tuple[str, str], Callable[[], Any]] = {
            ("GET", ""): lambda: {"id": own, "name": athlete.name, "timezone": athlete.timezone},
            ("GET", "/activities"): lambda: self._activities(call, own),
            ("GET", "/events"): lambda: self._events(call, own),
            ("POST", "/events"): lambda: self._write(own, _body(call), upsert=False)[0],
            ("POST", "/events/bulk"): lambda: self._write(
                own, *_array(_body(call)), upsert=call.flag("upsert")
            ),
            ("PUT", "/events/bulk-delete"): lambda: {
                "eventsDeleted": self._bulk_delete(own, _array(_body(call)))
            },
        }
        handler = handlers.get((call.method, rest))
        if handler is not None:
            return json_reply(200, handler())
        match = EVENT_PATH.match(rest)
        if call.method == "DELETE" and match:
            return json_reply(200, self._delete(own, int(match[1])))
        raise IcuError(404)

    def _authorised(self, call: Call) -> IcuAthlete:
        kind, _, value = call.headers.get("authorization", "").partition(" ")
        athlete_id = None
        if kind.lower() == "basic":
            user, _, key = _basic(value)
            found = [a for a in self._state.athletes.values() if a.api_key == key]
            athlete_id = found[0].id if user == "API_KEY" and found else None
        elif kind.lower() == "bearer":
            athlete_id = self._state.bearer_tokens.get(value.strip())
        if athlete_id is None:
            raise IcuError(401, "Unauthorized")
        return self._state.athletes[athlete_id]

    # -- endpoints -------------------------------------------------------------------------

    def _activities(self, call: Call, athlete_id: str) -> list[Json]:
        """Newest first; `oldest` is required, `newest` inclusive, both local dates."""
        oldest, newest = _day_arg(call, "oldest", required=True), _day_arg(call, "newest")
        mine = [
            copy.deepcopy(body) for owner, body in self._state.activities.values()
            if owner == athlete_id and _within(body["start_date_local"], oldest, newest)
        ]  # fmt: skip
        mine.sort(key=lambda b: b["start_date_local"], reverse=True)
        limit = call.arg("limit")
        return mine[: int(limit)] if limit and limit.isdigit() else mine

    def _events(self, call: Call, athlete_id: str) -> list[Json]:
        oldest, newest = _day_arg(call, "oldest"), _day_arg(call, "newest")
        wanted = {c for c in (call.arg("category") or "").split(",") if c}
        chosen = [
            copy.deepcopy(e.body) for e in self._state.events.values()
            if e.athlete_id == athlete_id and _within(e.body["start_date_local"], oldest, newest)
            and (not wanted or e.body["category"] in wanted)
        ]  # fmt: skip
        return sorted(chosen, key=lambda b: (b["start_date_local"], b["id"]))

    def _write(self, athlete_id: str, *items: Any, upsert: bool) -> list[Json]:
        for item in items:  # check all before changing anything
            _check_event(item)
        written = []
        for item in items:
            existing = self._by_external_id(athlete_id, item.get("external_id")) if upsert else None
            if existing is not None:
                event_id = existing.body["id"]
                existing.body.update(copy.deepcopy(item), id=event_id, updated=_stamp())
                written.append(copy.deepcopy(existing.body))
            else:
                written.append(self._create(athlete_id, item, by_app=True))
        return written

    def _bulk_delete(self, athlete_id: str, doomed: list[Any]) -> int:
        deleted = 0
        for item in doomed:
            event = None
            if isinstance(item, dict) and item.get("id") is not None:
                event = self._state.events.get(int(item["id"]))
                event = event if event is not None and event.athlete_id == athlete_id else None
            elif isinstance(item, dict):
                event = self._by_external_id(athlete_id, item.get("external_id"))
            if event is not None:
                del self._state.events[event.body["id"]]
                deleted += 1
        return deleted

    def _delete(self, athlete_id: str, event_id: int) -> Json:
        event = self._state.events.get(event_id)
        if event is None or event.athlete_id != athlete_id:
            raise IcuError(404, "Event not found")
        del self._state.events[event_id]
        return {"id": event_id, "icu_athlete_id": athlete_id}

    def _by_external_id(self, athlete_id: str, external_id: object) -> Event | None:
        if not external_id:
            return None
        for event in self._state.events.values():
            mine = event.by_app and event.athlete_id == athlete_id
            if mine and event.body.get("external_id") == external_id:
                return event
        return None

    def _create(self, athlete_id: str, item: Json, *, by_app: bool) -> Json:
        event_id = next(self._event_ids)
        body: Json = {"id": event_id, "icu_athlete_id": athlete_id, "category": "WORKOUT",
                      "name": None, "description": None, "type": None, "moving_time": None,
                      "distance": None, "icu_training_load": None, "external_id": None,
                      "end_date_local": None, "indoor": False, "color": None,
                      "show_as_note": False, "created": _stamp(), "updated": _stamp()}  # fmt: skip
        body.update(copy.deepcopy(item))
        body["id"] = event_id
        self._state.events[event_id] = Event(athlete_id, body, by_app)
        return copy.deepcopy(body)

    # -- controls for tests ----------------------------------------------------------------

    def add_athlete(self, api_key: str | None = None, name: str = "Rita Runner") -> IcuAthlete:
        with self._lock:
            key = api_key or secrets.token_hex(12)
            athlete = IcuAthlete(f"i{next(self._athlete_ids)}", key, name)
            self._state.athletes[athlete.id] = athlete
            return athlete

    def issue_bearer_token(self, athlete_id: str | None = None) -> str:
        """An OAuth access token for the athlete (as intervals.icu's OAuth flow would give)."""
        with self._lock:
            token = secrets.token_urlsafe(24)
            self._state.bearer_tokens[token] = athlete_id or self.athlete.id
            return token

    def add_activity(
        self, start: datetime, *, athlete_id: str | None = None, timezone: str = "Europe/Berlin",
        type: str = "Run", distance: float = 10000.0, moving_time: int = 3000,
        source: str = "GARMIN_CONNECT", **fields: Any,
    ) -> Json:  # fmt: skip
        """An activity recorded by a device (naive `start` is local time in `timezone`)."""
        local = start.replace(tzinfo=ZoneInfo(timezone)) if start.tzinfo is None else start
        local = local.astimezone(ZoneInfo(timezone))
        body: Json = {
            "id": f"i{next(self._activity_ids)}", "start_date_local": _local(local),
            "start_date": local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timezone": timezone, "type": type, "name": f"Morning {type}", "distance": distance,
            "moving_time": moving_time, "elapsed_time": moving_time + 60,
            "total_elevation_gain": 42.0, "source": source, "external_id": None,
            "device_name": "Garmin Forerunner 265", "trainer": False, "race": False,
            "icu_training_load": 60, "average_heartrate": 148, "max_heartrate": 171,
        } | fields  # fmt: skip
        return self._keep(athlete_id, body)

    def add_strava_stub(self, start_local: datetime, *, athlete_id: str | None = None) -> Json:
        """An activity intervals.icu got from Strava: the API shows only this empty stub."""
        body = {"id": str(next(self._activity_ids) + 9_000_000_000),
                "start_date_local": _local(start_local), "source": "STRAVA",
                "_note": STRAVA_NOTE}  # fmt: skip
        return self._keep(athlete_id, body)

    def add_event(
        self, day: date, name: str, *, athlete_id: str | None = None, type: str | None = "Run",
        category: str = "WORKOUT", start: time | None = None, **fields: Any,
    ) -> Json:  # fmt: skip
        """A planned workout (or other event) the runner put on their own calendar."""
        item = {
            "category": category,
            "name": name,
            "type": type,
            "start_date_local": _local(datetime.combine(day, start or time())),
        } | fields
        with self._lock:
            return self._create(athlete_id or self.athlete.id, item, by_app=False)

    def activities(self, athlete_id: str | None = None) -> list[Json]:
        with self._lock:
            owner = athlete_id or self.athlete.id
            found = [copy.deepcopy(b) for o, b in self._state.activities.values() if o == owner]
            return sorted(found, key=lambda b: b["start_date_local"])

    def events(self, athlete_id: str | None = None, *, by_app: bool | None = None) -> list[Json]:
        """The calendar (copies), by date; `by_app` picks API-made or runner-made events."""
        with self._lock:
            owner = athlete_id or self.athlete.id
            found = [copy.deepcopy(e.body) for e in self._state.events.values()
                     if e.athlete_id == owner and by_app in {None, e.by_app}]  # fmt: skip
            return sorted(found, key=lambda b: (b["start_date_local"], b["id"]))

    def requests(self, method: str | None = None, path: str | None = None) -> list[Logged]:
        """Logged requests matching method and path (a regex); `.token` is the key used."""
        return self.recorder.requests(method, path)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.requests(method, path))

    def clear_log(self) -> None:
        self.recorder.clear()

    def fail(
        self, status: int, *, method: str | None = None, path: str | None = None,
        times: int = 1, retry_after: int | None = None,
    ) -> Fault:  # fmt: skip
        """Answer the next `times` calls matching method + path (regex) with `status`."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        error = IcuError(status)
        return self.recorder.add_fault(
            Fault(Matcher(method, path), lambda: error.reply(headers), times)
        )

    def hold(self, *, method: str | None = None, path: str | None = None, skip: int = 0) -> Hold:
        return self.recorder.add_hold(Hold(Matcher(method, path), skip))

    def _keep(self, athlete_id: str | None, body: Json) -> Json:
        with self._lock:
            self._state.activities[body["id"]] = (athlete_id or self.athlete.id, body)
            return copy.deepcopy(body)


def _credential(call: Call) -> str | None:
    kind, _, value = call.headers.get("authorization", "").partition(" ")
    return _basic(value)[2] if kind.lower() == "basic" else bearer(call)


def _basic(value: str) -> tuple[str, str, str]:
    """(user, ":", password) of a basic-auth value; empty strings when it is malformed."""
    try:
        return base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except ValueError:
        return "", "", ""


def _body(call: Call) -> Any:
    try:
        return json.loads(call.body or b"null")
    except ValueError:
        raise IcuError(400, "Malformed JSON") from None


def _array(payload: Any) -> list[Any]:
    if not isinstance(payload, list):
        raise IcuError(422, "Expected a JSON array")
    return payload


def _check_event(item: Any) -> None:
    if not isinstance(item, dict):
        raise IcuError(422, "An event must be a JSON object")
    if item.get("category") not in CATEGORIES:
        raise IcuError(422, f"Invalid category: {item.get('category')}")
    stamp = item.get("start_date_local")
    if not isinstance(stamp, str) or not LOCAL_STAMP.match(stamp):
        raise IcuError(422, f"start_date_local must be local yyyy-MM-ddTHH:mm:ss: {stamp!r}")


def _day_arg(call: Call, name: str, *, required: bool = False) -> date | None:
    raw = call.arg(name)
    if not raw:
        if required:
            raise IcuError(400, f"Required parameter '{name}' is not present")
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise IcuError(400, f"Invalid date for {name}: {raw}") from None


def _within(stamp: str, oldest: date | None, newest: date | None) -> bool:
    day = date.fromisoformat(stamp[:10])
    return (oldest is None or day >= oldest) and (newest is None or day <= newest)


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
