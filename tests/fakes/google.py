"""The fake Google: OAuth and Calendar API v3 (batch included) on one loopback server.

Point both settings at it (`google_oauth_root = google_api_root = fake.url`) and talk to it
with the real clients. Tests read its state, count the requests it saw, make the next matching
calls fail, hold a call until released, and act as the runner in Google's own UI.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import requests
from googleapiclient.discovery_cache import get_static_doc
from werkzeug.wrappers import Request, Response

from tests.fakes.consent import press
from tests.fakes.google_calendar import CalendarFake
from tests.fakes.google_fields import Json
from tests.fakes.google_oauth import CALENDAR_SCOPE, IssuedTokens, OAuthFake
from tests.fakes.server import LoopbackServer
from tests.fakes.wire import ApiError, Call, Reply, inner_call, multipart_reply, split_multipart

AUTH_PATH = "/o/oauth2/v2/auth"
BATCH_PATH = "/batch/calendar/v3"
API_PREFIX = "/calendar/v3/"
__all__ = ["CALENDAR_SCOPE", "FakeGoogle", "Fault", "Hold", "IssuedTokens", "Logged"]


@dataclass(frozen=True)
class Matcher:
    """Which calls a fault or hold applies to; `path` is a regex searched in the decoded path."""

    method: str | None = None
    path: str | None = None
    inner: bool | None = None  # True: batch parts only; False: wire requests only

    def matches(self, call: Call) -> bool:
        return (
            (self.method is None or self.method.upper() == call.method)
            and (self.path is None or re.search(self.path, call.path) is not None)
            and (self.inner is None or self.inner == call.inner)
        )


@dataclass
class Logged:
    """One request the fake received; batch parts are logged too, with inner=True."""

    method: str
    path: str
    query: dict[str, list[str]]
    inner: bool
    body: bytes
    status: int | None = None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    """Answer the next `times` matching calls with an error (after doing them, if `applied`)."""

    matcher: Matcher
    error: ApiError
    times: int = 1
    applied: bool = False  # the call takes effect but its reply is lost: the client sees the error


@dataclass
class Hold:
    """Stops one matching call on its way in until the test releases it."""

    matcher: Matcher
    skip: int = 0  # let this many matching calls through first
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def wait(self, timeout: float = 10) -> bool:
        """Block until the held call has arrived; False on timeout."""
        return self.reached.wait(timeout)

    def release(self) -> None:
        self.released.set()


Pending = TypeVar("Pending", Fault, Hold)


class FakeGoogle:
    """Google's OAuth server and Calendar API, state in memory, safe across server threads."""

    def __init__(
        self,
        *,
        client_id: str = "runstrength-test.apps.googleusercontent.com",
        client_secret: str = "fake-google-client-secret",
        access_token_lifetime: int = 3599,
    ) -> None:
        self._lock = threading.RLock()
        self._offset = timedelta()
        self.oauth = OAuthFake(client_id, client_secret, self.now)
        self.oauth.access_token_lifetime = access_token_lifetime
        self.calendar = CalendarFake(self.now, self.oauth.account)
        self.batch_limit = 50
        self._log: list[Logged] = []
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self._every_hold: list[Hold] = []  # released on stop, so no server thread stays stuck
        self._server = LoopbackServer(self)

    # -- lifecycle and addresses -----------------------------------------------------------

    def start(self) -> FakeGoogle:
        self._server.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for hold in self._every_hold:
                hold.release()
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def client_id(self) -> str:
        return self.oauth.client_id

    @property
    def client_secret(self) -> str:
        return self.oauth.client_secret

    def settings_overrides(self) -> dict[str, str]:
        """The Settings fields that point the app at this fake."""
        return {"google_client_id": self.client_id, "google_client_secret": self.client_secret,
                "google_oauth_root": self.url, "google_api_root": self.url}  # fmt: skip

    def discovery_document(self) -> Json:
        """The bundled calendar v3 document with its roots moved here (batch URL included)."""
        document: Json = json.loads(get_static_doc("calendar", "v3"))
        document |= {"rootUrl": self.url + "/", "mtlsRootUrl": self.url + "/",
                     "baseUrl": self.url + API_PREFIX}  # fmt: skip
        return document

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        """Move the fake's clock on (token and code expiry, `updated` stamps) without sleeping."""
        with self._lock:
            self._offset += delta

    # -- HTTP ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        call = Call(
            method=request.method, path=request.path,
            query={k: request.args.getlist(k) for k in request.args},
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.get_data(),
        )  # fmt: skip
        reply = self.handle(call)
        return Response(reply.body, reply.status, reply.headers)(environ, start_response)

    def handle(self, call: Call) -> Reply:
        """Log, maybe hold, maybe fail, else dispatch one call (from the wire or a batch part)."""
        entry = Logged(call.method, call.path, call.query, call.inner, call.body)
        with self._lock:
            self._log.append(entry)
            hold = self._take(self._holds, call)
            fault = self._take(self._faults, call)
        if hold is not None:
            hold.reached.set()
            hold.released.wait(60)
        if fault is not None and not fault.applied:
            reply = fault.error.reply()
        else:
            reply = self._dispatch(call)
            reply = fault.error.reply() if fault is not None else reply
        entry.status = reply.status
        return reply

    def _take(self, pending: list[Pending], call: Call) -> Pending | None:
        """The first pending fault or hold this call triggers, used up when its count runs out."""
        for item in pending:
            if not item.matcher.matches(call):
                continue
            if isinstance(item, Hold) and item.skip > 0:
                item.skip -= 1
                return None
            if isinstance(item, Fault) and item.times > 1:
                item.times -= 1
            else:
                pending.remove(item)
            return item
        return None

    def _dispatch(self, call: Call) -> Reply:
        try:
            if call.path == BATCH_PATH and call.method == "POST" and not call.inner:
                return self._batch(call)  # each part takes the lock itself
            with self._lock:
                return self._route(call)
        except ApiError as error:
            return error.reply()

    def _route(self, call: Call) -> Reply:
        if call.path == AUTH_PATH and call.method in {"GET", "POST"}:
            return (
                self.oauth.authorize_page(call) if call.method == "GET" else self.oauth.decide(call)
            )
        if call.path == "/token" and call.method == "POST":
            return self.oauth.token(call)
        if call.path == "/revoke" and call.method == "POST":
            return self.oauth.revoke(call)
        if call.path.startswith(API_PREFIX):
            scopes = self.oauth.scopes_for(call.headers.get("authorization"))
            return self.calendar.handle(call, scopes)
        raise ApiError(404, "notFound", "Not Found")

    def _batch(self, call: Call) -> Reply:
        """multipart/mixed of application/http parts in, the same shape out, in order."""
        parts = split_multipart(call.body, call.headers.get("content-type", ""))
        if not parts:
            raise ApiError(400, "badRequest", "The batch request has no parts.")
        if len(parts) > self.batch_limit:
            raise ApiError(400, "badRequest", f"More than {self.batch_limit} requests in a batch.")
        shared = {k: v for k, v in call.headers.items() if not k.startswith("content-")}
        answers = []
        for headers, payload in parts:
            try:
                reply = self.handle(inner_call(payload, shared))
            except ValueError:
                reply = ApiError(400, "badRequest", "Malformed batch part.").reply()
            answers.append((headers.get("content-id"), reply))
        return multipart_reply(answers)

    # -- request log, faults and holds -----------------------------------------------------

    def requests(
        self, method: str | None = None, path: str | None = None, *, inner: bool | None = False
    ) -> list[Logged]:
        """Logged requests that match; by default only those on the wire (a batch is one)."""
        matcher = Matcher(method, path, inner)
        with self._lock:
            return [
                e
                for e in self._log
                if matcher.matches(Call(e.method, e.path, {}, {}, b"", e.inner))
            ]

    def count(
        self, method: str | None = None, path: str | None = None, *, inner: bool | None = False
    ) -> int:
        return len(self.requests(method, path, inner=inner))

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def fail(
        self,
        status: int,
        *,
        method: str | None = None,
        path: str | None = None,
        reason: str | None = None,
        message: str | None = None,
        times: int = 1,
        retry_after: int | None = None,
        applied: bool = False,
        inner: bool | None = None,
    ) -> Fault:
        """Make the next `times` calls matching method + path (regex) answer `status`/`reason`."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        fault = Fault(
            Matcher(method, path, inner), ApiError(status, reason, message, headers), times, applied
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def hold(self, *, method: str | None = None, path: str | None = None, skip: int = 0,
             inner: bool | None = None) -> Hold:  # fmt: skip
        """Stop the (skip+1)th matching call until `release()`; `wait()` for it to arrive."""
        hold = Hold(Matcher(method, path, inner), skip)
        with self._lock:
            self._holds.append(hold)
            self._every_hold.append(hold)
        return hold

    # -- grants ----------------------------------------------------------------------------

    def issue_token(
        self, scopes: Iterable[str] = (CALENDAR_SCOPE,), *, offline: bool = True
    ) -> IssuedTokens:
        """Tokens as if the runner had consented already (skips the pages)."""
        with self._lock:
            return self.oauth.issue(frozenset(scopes), offline=offline)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self.oauth.expire_access_tokens()

    def expire_refresh_tokens(self) -> None:
        with self._lock:
            self.oauth.expire_refresh_tokens()

    def revoke_grants(self) -> None:
        with self._lock:
            self.oauth.revoke_grants()

    def withhold_scopes(self, *scopes: str) -> None:
        """The consent page shows these unticked, as if the runner unticked them."""
        with self._lock:
            self.oauth.withheld_scopes |= set(scopes)

    def approve(self, authorization_url: str, *, allow: bool = True) -> str:
        """Open the consent page and press Allow (or Deny) over HTTP; the redirect's Location."""
        with requests.Session() as http:
            page = http.get(authorization_url, timeout=10, allow_redirects=False)
            return press(http, page, self.url + AUTH_PATH, "allow" if allow else "deny")

    # -- calendar state, and the runner's own edits in Google's UI -------------------------

    @property
    def calendars(self) -> dict[str, Json]:
        with self._lock:
            return copy.deepcopy(self.calendar.calendars)

    def events(self, calendar_id: str, *, include_cancelled: bool = False) -> list[Json]:
        """The calendar's events (copies), oldest change first; deleted ones only if asked."""
        with self._lock:
            stored = sorted(self.calendar.events.get(calendar_id, {}).values(), key=lambda s: s.seq)
            return [copy.deepcopy(s.body) for s in stored
                    if include_cancelled or s.body["status"] != "cancelled"]  # fmt: skip

    def event(self, calendar_id: str, event_id: str) -> Json | None:
        with self._lock:
            stored = self.calendar.events.get(calendar_id, {}).get(event_id)
            return copy.deepcopy(stored.body) if stored else None

    def add_calendar(self, summary: str = "Other", timezone: str = "UTC") -> str:
        with self._lock:
            return str(self.calendar.add_calendar(summary, timezone)["id"])

    def add_event(self, calendar_id: str, body: Json) -> Json:
        """An event the runner typed in themselves (no id: Google picks one)."""
        with self._lock:
            return self.calendar.insert_event(calendar_id, body)

    def move_event(
        self, calendar_id: str, event_id: str, start: datetime, end: datetime | None = None
    ) -> Json:
        """Drag an event to `start` (keeping its length unless `end` is given), as in the UI."""
        with self._lock:
            body = self.calendar.stored(calendar_id, event_id).body
            if end is None:
                end = start + (
                    datetime.fromisoformat(body["end"]["dateTime"])
                    - datetime.fromisoformat(body["start"]["dateTime"])
                )
            changes = {
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": end.isoformat()},
            }
            return self.calendar.change_event(
                {"calendarId": calendar_id, "eventId": event_id}, changes, replace=False
            )

    def edit_event(self, calendar_id: str, event_id: str, changes: Json) -> Json:
        """Any other edit in the UI, with patch semantics (e.g. a new summary)."""
        with self._lock:
            return self.calendar.change_event(
                {"calendarId": calendar_id, "eventId": event_id}, changes, replace=False
            )

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        with self._lock:
            self.calendar.cancel_event(calendar_id, event_id)

    def delete_calendar(self, calendar_id: str) -> None:
        with self._lock:
            self.calendar.remove_calendar(calendar_id)

    def expire_sync_tokens(self) -> None:
        """Every sync token given so far now answers 410 fullSyncRequired."""
        with self._lock:
            self.calendar.expire_sync_tokens()
