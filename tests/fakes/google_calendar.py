"""The fake Calendar API v3: calendars and events, routed from the discovery document.

Paths and verbs come from the `calendar.v3.json` that google-api-python-client ships, so a
request the real client builds lands on the handler Google would run. Not thread-safe on its own:
the FakeGoogle around it serialises every call.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from googleapiclient.discovery_cache import get_static_doc

from tests.fakes.google_fields import (
    Json,
    instant,
    merge,
    new_event_id,
    page_size,
    stamp,
    time_zone,
    validated,
    wanted,
    writable,
)
from tests.fakes.google_oauth import CALENDAR_SCOPE
from tests.fakes.wire import ApiError, Call, Reply, json_reply

FULL_SCOPE = "https://www.googleapis.com/auth/calendar"
EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")  # base32hex, as Google requires for ids we choose
# Google refuses these together with syncToken, since they would make the token's view partial.
NOT_WITH_SYNC = ("iCalUID", "orderBy", "privateExtendedProperty", "q",
                 "sharedExtendedProperty", "timeMin", "timeMax", "updatedMin")  # fmt: skip


@dataclass(frozen=True)
class Route:
    resource: str
    method: str
    verb: str
    pattern: re.Pattern[str]


def discovery_routes() -> list[Route]:
    """Every method of the bundled discovery document as (verb, path regex), literal paths first."""
    document = json.loads(get_static_doc("calendar", "v3"))
    prefix = "/" + document["servicePath"]
    routes = []
    for resource, spec in document["resources"].items():
        for name, method in spec.get("methods", {}).items():
            regex = re.sub(
                r"\{(\+?)(\w+)\}",
                lambda m: f"(?P<{m[2]}>{'.+' if m[1] else '[^/]+'})",
                re.escape(method["path"]).replace(r"\{", "{").replace(r"\}", "}"),
            )
            routes.append(Route(resource, name, method["httpMethod"], re.compile(prefix + regex)))
    return sorted(routes, key=lambda route: route.pattern.pattern.count("?P"))


@dataclass
class Stored:
    body: Json
    seq: int  # the change counter when it last changed; sync tokens remember one of these


@dataclass
class Page:
    calendar_id: str
    items: list[Json]
    sync_seq: int


@dataclass
class CalendarFake:
    clock: Callable[[], datetime]
    account: str = "runner@example.com"
    cancelled_details: bool = (
        True  # on the organizer's calendar Google keeps a deleted event's fields
    )
    calendars: dict[str, Json] = field(default_factory=dict)
    events: dict[str, dict[str, Stored]] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=discovery_routes)
    _seq: int = 0
    _sync: dict[str, tuple[str, int]] = field(default_factory=dict)
    _pages: dict[str, Page] = field(default_factory=dict)

    def handle(self, call: Call, scopes: frozenset[str]) -> Reply:
        route, params = self._match(call)
        if not scopes & _allowed_scopes(route):
            raise ApiError(403, "insufficientPermissions",
                           "Request had insufficient authentication scopes.")  # fmt: skip
        handler = getattr(self, f"_{route.resource}_{route.method}", None)
        if handler is None:
            # A 400, not a 5xx: clients would retry a 5xx, and this can only fail the same way.
            message = f"The fake Google does not implement {route.resource}.{route.method}."
            raise ApiError(400, "notImplementedByFake", message)
        reply: Reply = handler(call, params)
        return reply

    def _match(self, call: Call) -> tuple[Route, dict[str, str]]:
        for route in self.routes:
            found = route.pattern.fullmatch(call.path)
            if found and route.verb == call.method:
                return route, found.groupdict()
        raise ApiError(404, "notFound", "Not Found")

    # -- calendars -------------------------------------------------------------------------

    def add_calendar(self, summary: str, timezone: str = "UTC", **extra: str) -> Json:
        calendar_id = f"c_{secrets.token_hex(32)}@group.calendar.google.com"
        conferences = {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
        calendar = {"kind": "calendar#calendar", "id": calendar_id, "summary": summary,
                    "timeZone": time_zone(timezone, "calendar").key, **extra,
                    "conferenceProperties": conferences}  # fmt: skip
        calendar["etag"] = f'"{self._bump():016d}"'
        self.calendars[calendar_id] = calendar
        self.events[calendar_id] = {}
        return copy.deepcopy(calendar)

    def _calendars_insert(self, call: Call, params: dict[str, str]) -> Reply:
        body = call.json()
        if not body.get("summary"):
            raise ApiError(400, "required", "Missing title.")
        extra = {k: body[k] for k in ("description", "location") if isinstance(body.get(k), str)}
        return json_reply(
            200, self.add_calendar(body["summary"], body.get("timeZone") or "UTC", **extra)
        )

    def _calendars_get(self, call: Call, params: dict[str, str]) -> Reply:
        return json_reply(200, copy.deepcopy(self.calendar(params["calendarId"])))

    def _calendars_patch(self, call: Call, params: dict[str, str]) -> Reply:
        calendar = self.calendar(params["calendarId"])
        changes = {
            k: v for k, v in call.json().items() if k in {"summary", "description", "timeZone"}
        }
        if "timeZone" in changes:
            changes["timeZone"] = time_zone(changes["timeZone"], "calendar").key
        calendar.update(changes, etag=f'"{self._bump():016d}"')
        return json_reply(200, copy.deepcopy(calendar))

    def _calendars_delete(self, call: Call, params: dict[str, str]) -> Reply:
        self.calendar(params["calendarId"])
        self.remove_calendar(params["calendarId"])
        return Reply(204)

    def calendar(self, calendar_id: str) -> Json:
        if calendar_id not in self.calendars:
            raise ApiError(404, "notFound", "Not Found")
        return self.calendars[calendar_id]

    def remove_calendar(self, calendar_id: str) -> None:
        self.calendars.pop(calendar_id, None)
        self.events.pop(calendar_id, None)

    # -- events ----------------------------------------------------------------------------

    def _events_insert(self, call: Call, params: dict[str, str]) -> Reply:
        return json_reply(200, self.insert_event(params["calendarId"], call.json()))

    def insert_event(self, calendar_id: str, body: Json) -> Json:
        calendar = self.calendar(calendar_id)
        event_id = body.get("id") or new_event_id()
        if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in self.events[calendar_id]:
            raise ApiError(409, "duplicate")
        created = stamp(self.clock())
        event = {
            "kind": "calendar#event", "id": event_id, "status": "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": created, "creator": {"email": self.account},
            "organizer": {"email": calendar_id, "displayName": calendar["summary"], "self": True},
            "iCalUID": f"{event_id}@google.com", "sequence": 0,
            "reminders": {"useDefault": True}, "eventType": "default",
        } | writable(body)  # fmt: skip
        return self._save(calendar_id, validated(event, calendar))

    def _events_get(self, call: Call, params: dict[str, str]) -> Reply:
        return json_reply(200, copy.deepcopy(self.stored(*_ids(params)).body))

    def _events_patch(self, call: Call, params: dict[str, str]) -> Reply:
        return json_reply(200, self.change_event(params, call.json(), replace=False))

    def _events_update(self, call: Call, params: dict[str, str]) -> Reply:
        return json_reply(200, self.change_event(params, call.json(), replace=True))

    def change_event(self, params: dict[str, str], body: Json, *, replace: bool) -> Json:
        """Patch (merge; null removes; lists replace) or update (replace) one event."""
        stored, calendar = self.stored(*_ids(params)), self.calendar(params["calendarId"])
        changes = {k: v for k, v in writable(body).items() if k not in {"id", "iCalUID"}}
        if replace:
            kept = (
                "kind",
                "id",
                "htmlLink",
                "created",
                "creator",
                "organizer",
                "iCalUID",
                "eventType",
            )
            base = {k: stored.body[k] for k in kept if k in stored.body}
            event = base | {"status": "confirmed", "sequence": stored.body.get("sequence", 0),
                            "reminders": {"useDefault": True}} | changes  # fmt: skip
        else:
            event = merge(copy.deepcopy(stored.body), changes)
        event = validated(event, calendar)
        moved = (event["start"], event["end"]) != (stored.body["start"], stored.body["end"])
        if moved and "sequence" not in changes:
            event["sequence"] = stored.body.get("sequence", 0) + 1
        return self._save(params["calendarId"], event)

    def _events_delete(self, call: Call, params: dict[str, str]) -> Reply:
        self.cancel_event(params["calendarId"], params["eventId"])
        return Reply(204)

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        stored = self.stored(calendar_id, event_id)
        if stored.body["status"] == "cancelled":
            raise ApiError(410, "deleted")
        self._save(calendar_id, stored.body | {"status": "cancelled"})

    def stored(self, calendar_id: str, event_id: str) -> Stored:
        self.calendar(calendar_id)
        if event_id not in self.events[calendar_id]:
            raise ApiError(404, "notFound", "Not Found")
        return self.events[calendar_id][event_id]

    def _events_list(self, call: Call, params: dict[str, str]) -> Reply:
        calendar_id = params["calendarId"]
        calendar = self.calendar(calendar_id)
        token = call.arg("pageToken")
        page = self._pages.get(token) if token else self._first_page(call, calendar_id)
        if page is None or page.calendar_id != calendar_id:
            raise ApiError(400, "invalid", "Invalid page token value.")
        size = page_size(call)
        payload: Json = {
            "kind": "calendar#events", "etag": f'"{self._seq:016d}"',
            "summary": calendar["summary"], "updated": stamp(self.clock()),
            "timeZone": calendar["timeZone"], "accessRole": "owner",
            "defaultReminders": [], "items": page.items[:size],
        }  # fmt: skip
        if page.items[size:]:
            next_token = secrets.token_urlsafe(16)
            self._pages[next_token] = Page(calendar_id, page.items[size:], page.sync_seq)
            payload["nextPageToken"] = next_token
        else:
            payload["nextSyncToken"] = self._sync_token(calendar_id, page.sync_seq)
        return json_reply(200, payload)

    def _first_page(self, call: Call, calendar_id: str) -> Page:
        stored = self.events[calendar_id].values()
        sync = call.arg("syncToken")
        if sync is not None:
            if any(call.arg(name) is not None for name in NOT_WITH_SYNC):
                raise ApiError(400, "invalid", "syncToken cannot be combined with filters.")
            known = self._sync.get(sync)
            if known is None or known[0] != calendar_id:
                raise ApiError(410, "fullSyncRequired")
            chosen = [s for s in stored if s.seq > known[1]]
        else:
            zone = self.calendars[calendar_id]["timeZone"]
            chosen = [s for s in stored if wanted(s.body, call, zone)]
        if call.arg("orderBy") == "startTime":
            if not call.flag("singleEvents"):
                raise ApiError(400, "invalid", "The requested ordering is not available.")
            zone = self.calendars[calendar_id]["timeZone"]
            chosen.sort(key=lambda s: instant(s.body["start"], zone))
        else:
            chosen.sort(key=lambda s: s.seq)
        return Page(calendar_id, [self._listed(s.body) for s in chosen], self._seq)

    def _listed(self, body: Json) -> Json:
        if body["status"] == "cancelled" and not self.cancelled_details:
            return {k: body[k] for k in ("kind", "etag", "id", "status")}
        return copy.deepcopy(body)

    def _sync_token(self, calendar_id: str, seq: int) -> str:
        token = "CP" + secrets.token_urlsafe(18)
        self._sync[token] = (calendar_id, seq)
        return token

    def expire_sync_tokens(self) -> None:
        self._sync.clear()

    def _save(self, calendar_id: str, event: Json) -> Json:
        seq = self._bump()
        event = event | {"etag": f'"{seq:016d}"', "updated": stamp(self.clock())}
        self.events[calendar_id][event["id"]] = Stored(event, seq)
        return copy.deepcopy(event)

    def _bump(self) -> int:
        self._seq += 1
        return self._seq


def _ids(params: dict[str, str]) -> tuple[str, str]:
    return params["calendarId"], params["eventId"]


def _allowed_scopes(route: Route) -> set[str]:
    allowed = {FULL_SCOPE}
    if route.resource in {"calendars", "events"}:
        allowed.add(CALENDAR_SCOPE)
    if route.resource == "events":
        allowed.add(FULL_SCOPE + ".events")
    if route.verb == "GET":
        allowed |= {scope + ".readonly" for scope in allowed if scope != CALENDAR_SCOPE}
    return allowed
