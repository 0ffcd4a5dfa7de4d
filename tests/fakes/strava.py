"""The fake Strava: OAuth, the athlete and activity reads, rate limits and webhooks on one
loopback server.

Point the app at it (`settings_overrides()`) and drive it with the real clients. Tests add
athletes and activities (each change also yields the webhook payload Strava would send), act
as the athlete on the consent page, move the clock across rate-limit windows and token
expiry, make calls fail, and read the request log.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import requests

from tests.fakes.consent import press
from tests.fakes.google import Matcher
from tests.fakes.server import LoopbackServer
from tests.fakes.strava_api import LEGACY_TYPES, Athlete, Json, StravaData
from tests.fakes.strava_limits import Limits, RateMeter, Usage
from tests.fakes.strava_oauth import IssuedTokens, StravaOAuthServer
from tests.fakes.strava_push import PushSubscriptions, Subscription, challenge, deliver, event
from tests.fakes.strava_wire import (
    Clock,
    Fault,
    Hold,
    Logged,
    Recorder,
    StravaError,
    call_of,
    respond,
)  # fmt: skip
from tests.fakes.wire import Call, Reply, json_reply

__all__ = ["Athlete", "FakeStrava", "IssuedTokens", "Limits", "Usage"]
API = "/api/v3"
SUBSCRIPTIONS = API + "/push_subscriptions"
ACTIVITY_PATH = re.compile(r"^/api/v3/activities/([^/]+)$")
MESSAGES = {400: "Bad Request", 401: "Authorization Error", 403: "Forbidden",
            404: "Record Not Found", 429: "Rate Limit Exceeded", 500: "Error",
            502: "Bad Gateway", 503: "Service Unavailable"}  # fmt: skip


class FakeStrava:
    """Strava's OAuth server and API v3 for one application, state in memory, thread-safe."""

    def __init__(
        self,
        *,
        client_id: int = 4242,
        client_secret: str = "fake-strava-client-secret",
        limits: Limits | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.clock = Clock()
        self.data = StravaData()
        self.athlete = self.data.add_athlete("Rita", "Runner")
        self.oauth = StravaOAuthServer(
            client_id, client_secret, self.clock, self.data.athlete, signed_in=self.athlete.id
        )
        self.meter = RateMeter(limits or Limits())
        self.push = PushSubscriptions(client_id, client_secret)
        self.outbox: list[Json] = []  # webhook events not yet delivered, oldest first
        self.recorder = Recorder()
        self._server = LoopbackServer(self)

    # -- lifecycle, addresses and time -----------------------------------------------------

    def start(self) -> FakeStrava:
        self._server.start()
        return self

    def stop(self) -> None:
        self.recorder.release_all()
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def client_id(self) -> int:
        return self.oauth.client_id

    @property
    def client_secret(self) -> str:
        return self.oauth.client_secret

    def settings_overrides(self) -> dict[str, str]:
        """The Settings fields that point the app at this fake."""
        return {
            "strava_client_id": str(self.client_id),
            "strava_client_secret": self.client_secret,
            "strava_api_root": self.url,
        }

    def now(self) -> datetime:
        return self.clock.now()

    def set_time(self, instant: datetime) -> None:
        """Freeze the fake's clock at `instant` (aware); only `advance` moves it from then on."""
        self.clock.set(instant)

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    # -- HTTP ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        call = call_of(environ)
        kind, _, token = call.headers.get("authorization", "").partition(" ")
        entry, fault = self.recorder.enter(
            call, token.strip() if kind.lower() == "bearer" else None
        )
        reply = fault.reply() if fault is not None else self._dispatch(call)
        entry.status = reply.status
        return respond(reply, environ, start_response)

    def _dispatch(self, call: Call) -> Reply:
        try:
            if call.method == "POST" and call.path == SUBSCRIPTIONS:
                return self._subscribe(call)  # takes the lock itself, not while calling back
            with self._lock:
                return self._route(call)
        except StravaError as error:
            return error.reply()

    def _route(self, call: Call) -> Reply:
        if call.path.startswith(("/oauth/", API + "/oauth/")):
            return self._oauth(call)
        if (call.method, call.path) == ("GET", SUBSCRIPTIONS):
            return json_reply(200, self.push.listing(call))
        if call.method == "DELETE" and call.path.startswith(SUBSCRIPTIONS + "/"):
            self.push.delete(call, call.path.rsplit("/", 1)[1])
            return Reply(204)
        if call.path.startswith(API + "/"):
            return self._api(call)
        raise StravaError(404, "Record Not Found", "resource", "path", "invalid")

    def _oauth(self, call: Call) -> Reply:
        route = (call.method, call.path.removeprefix(API))
        if route == ("GET", "/oauth/authorize"):
            return self.oauth.authorize_page(call)
        if route == ("POST", "/oauth/accept_application"):
            return self.oauth.accept(call)
        if route == ("POST", "/oauth/token"):
            return self.oauth.token(call)
        if route == ("POST", "/oauth/deauthorize"):
            reply, athlete_id = self.oauth.deauthorize(call)
            self.outbox.append(self._deauthorization(athlete_id))
            return reply
        raise StravaError(404, "Record Not Found", "resource", "path", "invalid")

    def _api(self, call: Call) -> Reply:
        """A bearer call to the API: authorised, counted, maybe refused 429, then answered."""
        access = self.oauth.authorised(call)
        now = self.clock.now()
        over = self.meter.record(now, read=call.method == "GET")
        headers = self.meter.headers(now)
        if over:
            error = StravaError(429, "Rate Limit Exceeded", "Application", "rate limit", "exceeded")
            return error.reply(headers)
        athlete_id, scopes = access.grant.athlete_id, access.grant.scopes
        try:
            if call.method == "GET" and call.path == API + "/athlete":
                return json_reply(200, self.data.athlete(athlete_id), headers)
            if call.method == "GET" and call.path == API + "/athlete/activities":
                return json_reply(200, self.data.list_activities(call, athlete_id, scopes), headers)
            match = ACTIVITY_PATH.match(call.path)
            if call.method == "GET" and match:
                return json_reply(200, self.data.activity(match[1], athlete_id, scopes), headers)
            raise StravaError(404, "Record Not Found", "resource", "path", "invalid")
        except StravaError as error:
            return error.reply(headers)

    def _subscribe(self, call: Call) -> Reply:
        with self._lock:
            callback_url, verify_token = self.push.creatable(call)
        if not challenge(callback_url, verify_token):
            raise StravaError(
                400, "Bad Request", "PushSubscription", "callback url", "not verifiable"
            )
        with self._lock:
            created = self.push.create(callback_url, self.clock.now())
        return json_reply(201, {"id": created.id})

    # -- the athlete: consent page, tokens, access -----------------------------------------

    def add_athlete(self, firstname: str = "Alex", lastname: str = "Athlete") -> Athlete:
        with self._lock:
            return self.data.add_athlete(firstname, lastname)

    def sign_in(self, athlete_id: int) -> None:
        """Who uses the consent page from now on (the default athlete at first)."""
        with self._lock:
            self.oauth.signed_in = athlete_id

    def withhold_scopes(self, *scopes: str) -> None:
        """The consent page shows these unticked, as if the athlete unticked them."""
        with self._lock:
            self.oauth.withheld_scopes |= set(scopes)

    def approve(self, authorization_url: str, *, allow: bool = True) -> str:
        """Open the consent page and press Authorize (or Cancel); the redirect's Location."""
        with requests.Session() as http:
            page = http.get(authorization_url, timeout=10, allow_redirects=False)
            if page.status_code == 302:  # approval_prompt=auto and nothing new to grant
                return page.headers["Location"]
            decision = "authorize" if allow else "cancel"
            return press(http, page, self.url + "/oauth/accept_application", decision)

    def issue_token(
        self, athlete_id: int | None = None, scopes: Sequence[str] = ("activity:read_all",)
    ) -> IssuedTokens:
        """Tokens as if the athlete had authorized the app already (skips the pages)."""
        with self._lock:
            return self.oauth.issue(athlete_id or self.athlete.id, frozenset(scopes))

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.oauth.expire_access_tokens()

    def revoke_access(self, athlete_id: int | None = None) -> Json:
        """The athlete removes the app in their Strava settings; the deauthorization event."""
        with self._lock:
            athlete_id = athlete_id or self.athlete.id
            self.oauth.revoke(athlete_id)
            payload = self._deauthorization(athlete_id)
            self.outbox.append(payload)
            return copy.deepcopy(payload)

    def scopes_of(self, athlete_id: int | None = None) -> frozenset[str] | None:
        """What the athlete's current grant allows; None when the app is not authorized."""
        with self._lock:
            grant = self.oauth.grant_of(athlete_id or self.athlete.id)
            return grant.scopes if grant else None

    # -- the athlete's activities (each change queues the webhook event) -------------------

    def add_activity(
        self, athlete_id: int | None = None, *, start: datetime,
        timezone: str = "Europe/Berlin", **fields: Any,
    ) -> Json:  # fmt: skip
        """Upload an activity (`fields`: any DetailedActivity key, e.g. sport_type, distance,
        moving_time, workout_type, private); returns its JSON and queues a create event."""
        with self._lock:
            owner = athlete_id or self.athlete.id
            body = self.data.add_activity(owner, start, timezone, fields)
            self.outbox.append(self._event(body["id"], "create", owner))
            return body

    def update_activity(self, activity_id: int, **fields: Any) -> Json:
        """Edit an activity; returns the update event (title/type/private in `updates`)."""
        with self._lock:
            stored = self.data.activities[activity_id]
            stored.body.update(fields)
            if "sport_type" in fields:
                stored.body["type"] = _legacy(fields["sport_type"])
            if "private" in fields:
                stored.body["visibility"] = "only_me" if fields["private"] else "everyone"
            updates = {"title": fields.get("name"), "type": fields.get("sport_type"),
                       "private": _flag(fields.get("private"))}  # fmt: skip
            present = {k: str(v) for k, v in updates.items() if v is not None}
            payload = self._event(activity_id, "update", stored.owner, present)
            self.outbox.append(payload)
            return copy.deepcopy(payload)

    def delete_activity(self, activity_id: int) -> Json:
        with self._lock:
            stored = self.data.remove(activity_id)
            payload = self._event(activity_id, "delete", stored.owner)
            self.outbox.append(payload)
            return copy.deepcopy(payload)

    def activities(self, athlete_id: int | None = None) -> list[Json]:
        """The truth: the athlete's activities (DetailedActivity copies), oldest first."""
        with self._lock:
            owner = athlete_id or self.athlete.id
            return [copy.deepcopy(s.body) for s in self.data.of(owner)]

    # -- webhooks --------------------------------------------------------------------------

    @property
    def subscription(self) -> Subscription | None:
        with self._lock:
            return self.push.current

    def webhook_event(
        self, object_id: int, aspect_type: str = "create", owner_id: int | None = None, *,
        object_type: str = "activity", updates: dict[str, str] | None = None,
    ) -> Json:  # fmt: skip
        """Any payload, e.g. a duplicate or one for an unknown activity (not queued)."""
        with self._lock:
            owner = owner_id or self.athlete.id
            return self._payload(object_type, object_id, aspect_type, owner, updates)

    def take_events(self) -> list[Json]:
        """The queued webhook events, oldest first; the queue is emptied."""
        with self._lock:
            taken, self.outbox = self.outbox, []
            return taken

    def deliver(self, payload: Json, callback_url: str | None = None) -> int:
        """POST one event to the subscription's callback (or `callback_url`); its status."""
        with self._lock:
            url = callback_url or (self.push.current.callback_url if self.push.current else None)
        if url is None:
            raise AssertionError("no push subscription to deliver to")
        return deliver(url, payload)

    def deliver_pending(self, callback_url: str | None = None) -> list[int]:
        """Deliver every queued event in order, as Strava would; their statuses."""
        return [self.deliver(payload, callback_url) for payload in self.take_events()]

    # -- rate limits -----------------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        return self.meter.limits

    def usage(self) -> Usage:
        with self._lock:
            return self.meter.usage(self.clock.now())

    def spend(self, calls: int, *, read: bool = True) -> Usage:
        """Count `calls` calls in the current windows, as if other athletes made them."""
        with self._lock:
            self.meter.record(self.clock.now(), read=read, calls=calls)
            return self.meter.usage(self.clock.now())

    # -- request log, faults and holds -----------------------------------------------------

    def requests(self, method: str | None = None, path: str | None = None) -> list[Logged]:
        """Logged requests matching method and path (a regex searched in the path)."""
        return self.recorder.requests(method, path)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.requests(method, path))

    def clear_log(self) -> None:
        self.recorder.clear()

    def fail(
        self, status: int, *, method: str | None = None, path: str | None = None,
        times: int = 1, retry_after: int | None = None,
    ) -> Fault:  # fmt: skip
        """Answer the next `times` calls matching method + path (regex) with a Strava error."""
        error = StravaError(status, MESSAGES.get(status, "Error"), "Application", "", "failed")

        def reply() -> Reply:
            with self._lock:
                headers = self.meter.headers(self.clock.now())
            if retry_after is not None:
                headers["Retry-After"] = str(retry_after)
            return error.reply(headers)

        return self.recorder.add_fault(Fault(Matcher(method, path), reply, times))

    def hold(self, *, method: str | None = None, path: str | None = None, skip: int = 0) -> Hold:
        """Stop the (skip+1)th matching call until `release()`; `wait()` for it to arrive."""
        return self.recorder.add_hold(Hold(Matcher(method, path), skip))

    # -- internals -------------------------------------------------------------------------

    def _event(
        self, activity_id: int, aspect: str, owner: int, updates: dict[str, str] | None = None
    ) -> Json:
        return self._payload("activity", activity_id, aspect, owner, updates)

    def _deauthorization(self, athlete_id: int) -> Json:
        return self._payload("athlete", athlete_id, "update", athlete_id, {"authorized": "false"})

    def _payload(
        self, object_type: str, object_id: int, aspect: str, owner: int,
        updates: dict[str, str] | None,
    ) -> Json:  # fmt: skip
        subscription_id = self.push.current.id if self.push.current else 0
        return event(object_type, object_id, aspect, owner_id=owner,
                     subscription_id=subscription_id, event_time=self.clock.epoch(),
                     updates=updates)  # fmt: skip


def _legacy(sport_type: str) -> str:
    return LEGACY_TYPES.get(sport_type, "Workout")


def _flag(value: object) -> str | None:
    return None if value is None else ("true" if value else "false")
