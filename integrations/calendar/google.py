"""Google Calendar API v3: one dedicated calendar, events written in batches, changes read back.

Built on google-api-python-client with its bundled discovery document (no network to build),
rebased on ``api_root`` so the service and batch URLs both follow it; requests go through our
requests.Session with the access token as a bearer header.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import requests
from googleapiclient.discovery import build_from_document  # type: ignore[import-untyped]
from googleapiclient.discovery_cache import get_static_doc  # type: ignore[import-untyped]
from googleapiclient.errors import BatchError, HttpError  # type: ignore[import-untyped]
from googleapiclient.http import BatchHttpRequest, HttpRequest  # type: ignore[import-untyped]

from integrations.errors import IntegrationError, NotFound, UpstreamError
from integrations.google.api import Transport, error_for, reason, retryable, status_of
from integrations.types import CalendarEvent

GOOGLE_API_ROOT = "https://www.googleapis.com"
BATCH_SIZE = 50  # calls per batch request; Google allows 1000 but advises far fewer
UID_KEY, HASH_KEY = "runstrength_uid", "runstrength_hash"
MAX_BACKOFF_S = 2.0  # cap on one retry wait: a worker never sits out a rate limit
_MAX_HOPS = 4  # insert -> 409 -> get -> undelete -> 404 -> insert ...: stop there
# What to try next when a call answers (verb, status): the id exists, or the event is gone.
_RECOVERY = {
    ("insert", 409): "get",
    ("get", 404): "insert",
    ("patch", 404): "insert",
    ("patch", 410): "insert",
    ("undelete", 404): "insert",
    ("undelete", 410): "insert",
}

Op = Literal["insert", "patch", "delete"]


def event_id_for(uid: str) -> str:
    """Our event id for a session uid: base32hex (a-v, 0-9) of its SHA-256, 52 characters."""
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").rstrip("=").lower()


@dataclass(frozen=True, slots=True)
class EventChange:
    """One write to the remote calendar; ``event`` is None for deletes."""

    op: Op
    event_id: str
    event: CalendarEvent | None
    timezone: str
    reminder_minutes: int
    content_hash: str


@dataclass(frozen=True, slots=True)
class ChangeResult:
    """How one EventChange ended; ``error`` says why when ``ok`` is false."""

    event_id: str
    op: Op
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteChange:
    """An event as the remote calendar has it now (cancelled ones may carry only the id)."""

    event_id: str
    uid: str | None
    content_hash: str | None
    cancelled: bool
    start: datetime | None
    end: datetime | None


class SyncTokenExpired(IntegrationError):
    """Google no longer accepts the sync token: list everything again."""


def event_body(change: EventChange) -> dict[str, Any]:
    """The Calendar API event resource for an insert or patch."""
    event = change.event
    if event is None:
        raise ValueError(f"{change.op} of {change.event_id} needs an event")
    zone = ZoneInfo(change.timezone)
    return {
        "id": change.event_id,
        "summary": event.summary,
        "description": event.description,
        "start": {"dateTime": _local(event.start, zone), "timeZone": change.timezone},
        "end": {"dateTime": _local(event.end, zone), "timeZone": change.timezone},
        "extendedProperties": {"private": {UID_KEY: event.uid, HASH_KEY: change.content_hash}},
        "reminders": {
            "useDefault": False,
            "overrides": [{"method": "popup", "minutes": change.reminder_minutes}],
        },
    }


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def _capped_sleep(seconds: float) -> None:
    time.sleep(min(seconds, MAX_BACKOFF_S))


@functools.lru_cache(maxsize=8)
def _discovery(root: str) -> str:
    """The bundled calendar v3 document with every root URL pointing at ``root``."""
    doc = json.loads(get_static_doc("calendar", "v3"))
    doc["rootUrl"] = doc["mtlsRootUrl"] = root
    doc["baseUrl"] = root + doc["servicePath"]
    return json.dumps(doc)


@dataclass(frozen=True, slots=True)
class _Step:
    """The next call for one change: its verb moves on as Google answers (409 -> get -> ...)."""

    index: int
    change: EventChange
    verb: str
    retries: int = 0
    hops: int = 0

    def then(self, verb: str) -> _Step:
        return replace(self, verb=verb, hops=self.hops + 1)


class GoogleCalendar:
    """The Calendar API for one access token; errors come out as the integrations error tree."""

    def __init__(
        self,
        *,
        access_token: str,
        api_root: str,
        session: requests.Session,
        num_retries: int = 3,
        sleep: Callable[[float], None] = _capped_sleep,
    ) -> None:
        root = (api_root or GOOGLE_API_ROOT).rstrip("/") + "/"
        doc = _discovery(root)
        self._batch_uri = root + json.loads(doc)["batchPath"]
        self._http = Transport(session, access_token)
        self._num_retries = num_retries
        self._sleep = sleep
        self._service = build_from_document(doc, http=self._http, requestBuilder=self._request)

    def _request(self, *args: Any, **kwargs: Any) -> Any:
        request = HttpRequest(*args, **kwargs)
        request._sleep = self._sleep  # the library's backoff, made injectable
        return request

    def create_calendar(self, summary: str, timezone: str) -> str:
        """Create a secondary calendar and return its id."""
        body = {"summary": summary, "timeZone": timezone}
        created = self._execute(self._service.calendars().insert(body=body))
        return str(created["id"])

    def calendar_exists(self, calendar_id: str) -> bool:
        """Whether the calendar is still there (the runner may have deleted it)."""
        try:
            self._execute(self._service.calendars().get(calendarId=calendar_id))
        except NotFound:
            return False
        return True

    def delete_calendar(self, calendar_id: str) -> None:
        """Delete the calendar with its events; one that is already gone counts as deleted."""
        try:
            self._execute(self._service.calendars().delete(calendarId=calendar_id))
        except NotFound:
            return

    def changes_since(
        self, calendar_id: str, sync_token: str | None
    ) -> tuple[list[RemoteChange], str]:
        """Events changed since ``sync_token`` (None: all, deleted ones too) and the next token."""
        events = self._service.events()
        params: dict[str, Any] = {"calendarId": calendar_id, "showDeleted": True}
        if sync_token is not None:
            params["syncToken"] = sync_token
        changes: list[RemoteChange] = []
        page_token: str | None = None
        gone = SyncTokenExpired if sync_token is not None else NotFound
        while True:
            page = self._execute(events.list(**params, pageToken=page_token), gone=gone)
            changes.extend(_remote_change(item) for item in page.get("items", []))
            page_token = page.get("nextPageToken")
            if page_token is None:
                next_token = page.get("nextSyncToken")
                if not isinstance(next_token, str):
                    raise UpstreamError("events.list ended without a nextSyncToken")
                return changes, next_token

    def apply(self, calendar_id: str, changes: Sequence[EventChange]) -> list[ChangeResult]:
        """Write the changes in batches of at most BATCH_SIZE calls, settling 409/404/410 answers.

        Raises AuthExpired, NotFound (calendar gone), or RateLimited/UpstreamError once the
        retries are spent; callers wanting per-batch progress pass at most BATCH_SIZE changes."""
        results: dict[int, ChangeResult] = {}
        steps = [_Step(i, change, change.op) for i, change in enumerate(changes)]
        while steps:
            retried = [s.retries for s in steps if s.retries]
            if retried:
                self._backoff(max(retried))
            following: list[_Step] = []
            for start in range(0, len(steps), BATCH_SIZE):
                chunk = steps[start : start + BATCH_SIZE]
                for step, answer in zip(chunk, self._send(calendar_id, chunk), strict=True):
                    outcome = self._settle(step, answer)
                    if isinstance(outcome, _Step):
                        following.append(outcome)
                    else:
                        results[step.index] = outcome
            steps = following
        return [results[i] for i in range(len(changes))]

    def _settle(self, step: _Step, answer: Any) -> _Step | ChangeResult:
        if not isinstance(answer, HttpError):
            if step.verb == "get" and not _is_ours_as_is(answer, step.change):
                return step.then("undelete")
            return _result(step)
        status = status_of(answer)
        if status == 401 or retryable(status, answer.content):
            if status != 401 and step.retries < self._num_retries:
                return replace(step, retries=step.retries + 1)
            raise error_for(answer)
        if step.verb == "insert" and status == 404:
            raise NotFound("the calendar is gone (an insert answered 404)")
        if step.verb == "delete" and status in (404, 410):
            return _result(step)  # already gone (410: deleted before)
        recovery = _RECOVERY.get((step.verb, status))
        if recovery is not None and step.hops < _MAX_HOPS:
            return step.then(recovery)
        return _result(step, error=f"HTTP {status} on {step.verb}: {reason(answer)}")

    def _send(self, calendar_id: str, chunk: Sequence[_Step]) -> list[Any]:
        """One batch request for the chunk: each call's parsed body or its HttpError, in order."""
        answers: dict[str, Any] = {}

        def collect(request_id: str, response: Any, exception: Any) -> None:
            answers[request_id] = exception if exception is not None else response

        for attempt in range(self._num_retries + 1):
            batch = BatchHttpRequest(callback=collect, batch_uri=self._batch_uri)
            for position, step in enumerate(chunk):
                batch.add(self._call(calendar_id, step), request_id=str(position))
            try:
                batch.execute(http=self._http)
            except HttpError as exc:
                if attempt == self._num_retries or not retryable(status_of(exc), exc.content):
                    raise error_for(exc) from exc
                self._backoff(attempt + 1)
                continue
            except (BatchError, ValueError) as exc:
                raise UpstreamError(f"malformed batch answer: {exc}") from exc
            break
        if len(answers) != len(chunk):
            raise UpstreamError(f"batch answered {len(answers)} of {len(chunk)} calls")
        return [answers[str(position)] for position in range(len(chunk))]

    def _call(self, calendar_id: str, step: _Step) -> Any:
        events, change = self._service.events(), step.change
        ids = {"calendarId": calendar_id, "eventId": change.event_id}
        if step.verb == "insert":
            return events.insert(calendarId=calendar_id, body=event_body(change))
        if step.verb == "patch":
            return events.patch(**ids, body=event_body(change))
        if step.verb == "undelete":
            return events.patch(**ids, body={**event_body(change), "status": "confirmed"})
        if step.verb == "get":
            return events.get(**ids)
        return events.delete(**ids)

    def _backoff(self, retry_number: int) -> None:
        self._sleep(random.random() * 2**retry_number)

    def _execute(self, request: Any, *, gone: type[IntegrationError] = NotFound) -> Any:
        try:
            return request.execute(num_retries=self._num_retries)
        except HttpError as exc:
            if status_of(exc) == 410:
                raise gone(reason(exc)) from exc
            raise error_for(exc) from exc
        except ValueError as exc:  # a body that is not JSON
            raise UpstreamError(f"malformed answer from Google Calendar: {exc}") from exc


def _result(step: _Step, error: str | None = None) -> ChangeResult:
    return ChangeResult(step.change.event_id, step.change.op, ok=error is None, error=error)


def _is_ours_as_is(event: Any, change: EventChange) -> bool:
    """Whether an existing event already shows exactly this change (else it gets patched)."""
    remote = _remote_change(event)
    return (
        not remote.cancelled
        and change.event is not None
        and remote.content_hash == change.content_hash
        and (remote.start, remote.end) == (change.event.start, change.event.end)
    )


def _remote_change(item: Mapping[str, Any]) -> RemoteChange:
    private = (item.get("extendedProperties") or {}).get("private") or {}
    return RemoteChange(
        event_id=str(item["id"]),
        uid=private.get(UID_KEY),
        content_hash=private.get(HASH_KEY),
        cancelled=item.get("status") == "cancelled",
        start=_moment(item.get("start")),
        end=_moment(item.get("end")),
    )


def _moment(when: Mapping[str, Any] | None) -> datetime | None:
    """A timed start/end as an aware datetime; all-day dates (no time) give None."""
    if not when or "dateTime" not in when:
        return None
    moment = datetime.fromisoformat(when["dateTime"])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(when.get("timeZone") or "UTC"))
    return moment
