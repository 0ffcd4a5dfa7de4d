"""Publish a runner's plan to their own Google calendar: a diff against what we last wrote.

One run: read the runner's edits back (moves and deletes become overrides), plan the feed's
window, then insert, patch and delete only what differs, at most 50 calls per batch, recording
each batch's results as soon as it returns. Event ids derive from session uids, so a run that
stopped anywhere is finished by the next one without duplicates or orphans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import delete, select

from integrations.calendar.google import (
    ChangeResult,
    EventChange,
    GoogleCalendar,
    RemoteChange,
    SyncTokenExpired,
    event_id_for,
)
from integrations.errors import AuthExpired, IntegrationError, NotFound
from integrations.types import CalendarEvent
from service.crypto import SealBroken
from service.db import Database
from service.models import Connection, RemoteEvent, Runner
from service.settings import Settings
from service.usecases.google_connection import fresh_grant, google_connection
from service.usecases.google_sync import ReadBack, read_back
from service.usecases.grants import CONNECTED, mark_needs_reconnect
from service.usecases.publish_plan import feed_window, shown_digest, window_events

CALENDAR_NAME = "runstrength"
BATCH_SIZE = 50  # Google allows 1000 calls per batch; 50 keeps one failure small
PUBLISHED, NOT_CONNECTED, NEEDS_RECONNECT = "published", "not_connected", "needs_reconnect"


@dataclass(slots=True)
class PublishReport:
    """What one publish did, or why it did nothing (``state`` other than published)."""

    state: str = PUBLISHED
    detail: str = ""
    calendar_created: bool = False
    inserted: int = 0
    patched: int = 0
    deleted: int = 0
    unchanged: int = 0
    moved_by_runner: int = 0
    skipped_by_runner: int = 0
    conflicts: int = 0
    failed: int = 0  # calls Google refused for good (4xx); retried on the next publish

    @property
    def written(self) -> int:
        return self.inserted + self.patched + self.deleted


@dataclass(frozen=True, slots=True)
class Written:
    """What we last wrote for one session."""

    event_id: str
    content_hash: str
    start_utc: datetime


def content_hash(event: CalendarEvent, timezone: str, reminder_minutes: int) -> str:
    """A digest of everything Google shows for the event: times, zone, text, reminder."""
    return shown_digest(event, timezone, str(reminder_minutes))


def plan_changes(
    events: Sequence[CalendarEvent],
    written: Mapping[str, Written],
    *,
    timezone: str,
    reminder_minutes: int,
    keep_before: datetime,
) -> tuple[list[EventChange], int]:
    """The calls that make the calendar show ``events``, and how many events need none.

    Events we wrote that start before ``keep_before`` (older than the window) stay as history."""
    changes: list[EventChange] = []
    unchanged = 0
    for event in events:
        digest = content_hash(event, timezone, reminder_minutes)
        known = written.get(event.uid)
        if known is not None and known.content_hash == digest:
            unchanged += 1
            continue
        if known is None:
            change = EventChange(
                "insert", event_id_for(event.uid), event, timezone, reminder_minutes, digest
            )
        else:
            change = EventChange("patch", known.event_id, event, timezone, reminder_minutes, digest)
        changes.append(change)
    planned = {e.uid for e in events}
    for uid, known in sorted(written.items()):
        if uid not in planned and known.start_utc >= keep_before:
            changes.append(
                EventChange("delete", known.event_id, None, timezone, reminder_minutes, "")
            )
    return changes, unchanged


def publish_runner(
    db: Database,
    settings: Settings,
    runner_id: int,
    *,
    now: datetime,
    session: requests.Session,
    retries: int = 3,
) -> PublishReport:
    """Bring the runner's Google calendar in step with the plan, reading their own edits first.

    Idempotent. RateLimited and UpstreamError propagate for the job layer to retry later;
    ``retries`` is the client's own retrying of 429, 5xx and rate-limit 403 answers."""
    with db.session() as s:
        connection = google_connection(s, runner_id)
        if connection is None:
            return PublishReport(NOT_CONNECTED, "no Google Calendar connection")
        if connection.state != CONNECTED:
            return PublishReport(NEEDS_RECONNECT, "the Google connection needs reconnecting")
        try:
            grant = fresh_grant(s, connection, settings, session, now)
        except AuthExpired as exc:  # fresh_grant has marked the connection
            expired: Exception | None = exc
        except SealBroken as exc:  # the encryption keys changed: the grant is lost
            mark_needs_reconnect(s, connection, str(exc))
            expired = exc
        else:
            expired = None
        target = _Target.of(connection, s.get_one(Runner, runner_id), now)
    if expired is not None:
        return PublishReport(NEEDS_RECONNECT, f"Google refused the grant: {expired}")
    calendar = GoogleCalendar(
        access_token=grant.access_token,
        api_root=settings.google_api_root,
        session=session,
        num_retries=retries,
    )
    run = _Run(db, calendar, target, settings.base_url, now)
    try:
        run.publish()
    except AuthExpired as exc:
        with db.session() as s:
            mark_needs_reconnect(s, s.get_one(Connection, target.connection_id), str(exc))
        return PublishReport(NEEDS_RECONNECT, f"Google refused the grant: {exc}")
    except IntegrationError as exc:
        _note_error(db, target.connection_id, exc)
        raise
    return run.report


@dataclass(slots=True)
class _Target:
    """The connection and runner facts one run needs, read once (no ORM objects kept)."""

    connection_id: int
    runner_id: int
    timezone: str
    today: date
    calendar_id: str | None
    sync_token: str | None
    reminder_minutes: int

    @classmethod
    def of(cls, connection: Connection, runner: Runner, now: datetime) -> _Target:
        today = now.astimezone(ZoneInfo(runner.timezone)).date()
        return cls(
            connection.id,
            runner.id,
            runner.timezone,
            today,
            connection.calendar_id,
            connection.sync_token,
            connection.reminder_minutes,
        )


@dataclass
class _Run:
    """One publish: each step commits its own short transaction, never across an HTTP call."""

    db: Database
    calendar: GoogleCalendar
    target: _Target
    base_url: str
    now: datetime
    report: PublishReport = field(default_factory=PublishReport)
    _failures: str = ""  # the first call Google refused for good, for the connections page

    def publish(self) -> None:
        try:
            if self.target.calendar_id is None:
                self._create_calendar()
            self._read_back()
            self._write_plan()
        except NotFound:  # the runner deleted the calendar: start again in a new one
            self._create_calendar()
            self._read_back()
            self._write_plan()
        if self.report.written:
            self._read_back()  # moves the sync token past our own writes
        with self.db.session() as s:
            connection = s.get_one(Connection, self.target.connection_id)
            connection.last_sync_at, connection.last_error = self.now, self._failures

    def _create_calendar(self) -> None:
        calendar_id = self.calendar.create_calendar(CALENDAR_NAME, self.target.timezone)
        with self.db.session() as s:
            connection = s.get_one(Connection, self.target.connection_id)
            connection.calendar_id, connection.sync_token = calendar_id, None
            s.execute(delete(RemoteEvent).where(RemoteEvent.connection_id == connection.id))
        self.target.calendar_id, self.target.sync_token = calendar_id, None
        self.report.calendar_created = True
        self.report.inserted = self.report.patched = self.report.deleted = 0  # all start again

    def _read_back(self) -> None:
        """The runner's edits since the stored sync token; the new token is kept with them."""
        changes, token = self._changes()
        with self.db.session() as s:
            runner = s.get_one(Runner, self.target.runner_id)
            connection = s.get_one(Connection, self.target.connection_id)
            found: ReadBack = read_back(s, runner, connection, changes, today=self.target.today)
            connection.sync_token = token
        self.target.sync_token = token
        self.report.moved_by_runner += found.moved
        self.report.skipped_by_runner += found.skipped
        self.report.conflicts += found.conflicts

    def _changes(self) -> tuple[list[RemoteChange], str]:
        assert self.target.calendar_id is not None
        try:
            return self.calendar.changes_since(self.target.calendar_id, self.target.sync_token)
        except SyncTokenExpired:  # Google forgot the token: list everything again
            return self.calendar.changes_since(self.target.calendar_id, None)

    def _write_plan(self) -> None:
        """Apply the diff one batch at a time, so each batch's results are kept before the next."""
        changes = self._plan_changes()
        assert self.target.calendar_id is not None
        self._failures = ""
        for first in range(0, len(changes), BATCH_SIZE):
            batch = changes[first : first + BATCH_SIZE]
            failed = self._record(batch, self.calendar.apply(self.target.calendar_id, batch))
            if failed and not self._failures:
                self._failures = f"Google refused {failed[0].op} of an event: {failed[0].error}"
            self.report.failed += len(failed)

    def _plan_changes(self) -> list[EventChange]:
        with self.db.session() as s:
            runner = s.get_one(Runner, self.target.runner_id)
            events = window_events(
                s, runner, base_url=self.base_url, today=self.target.today, now=self.now
            )
            rows = s.scalars(
                select(RemoteEvent).where(RemoteEvent.connection_id == self.target.connection_id)
            )
            written = {r.uid: Written(r.event_id, r.content_hash, r.start_utc) for r in rows}
            first_day = feed_window(runner, self.target.today).start
        keep_before = datetime.combine(first_day, datetime.min.time(), ZoneInfo(runner.timezone))
        changes, self.report.unchanged = plan_changes(
            events,
            written,
            timezone=self.target.timezone,
            reminder_minutes=self.target.reminder_minutes,
            keep_before=keep_before,
        )
        return changes

    def _record(
        self, batch: Sequence[EventChange], results: Sequence[ChangeResult]
    ) -> list[ChangeResult]:
        """Store what this batch wrote, committed at once; returns the calls that failed."""
        sent = {c.event_id: c for c in batch}
        done = [sent[r.event_id] for r in results if r.ok and r.event_id in sent]
        with self.db.session() as s:
            rows = {
                r.event_id: r
                for r in s.scalars(
                    select(RemoteEvent).where(
                        RemoteEvent.connection_id == self.target.connection_id,
                        RemoteEvent.event_id.in_(sent),
                    )
                )
            }
            for change in done:
                row = rows.get(change.event_id)
                if change.event is None:
                    if row is not None:
                        s.delete(row)
                    self.report.deleted += 1
                    continue
                if row is None:
                    row = RemoteEvent(connection_id=self.target.connection_id, uid=change.event.uid)
                    s.add(row)
                row.event_id, row.content_hash = change.event_id, change.content_hash
                row.start_utc, row.end_utc = change.event.start, change.event.end
                if change.op == "insert":
                    self.report.inserted += 1
                else:
                    self.report.patched += 1
        return [r for r in results if not r.ok]


def _note_error(db: Database, connection_id: int, exc: IntegrationError) -> None:
    """Keep the reason for the connections page; the job layer retries."""
    with db.session() as s:
        connection = s.get(Connection, connection_id)
        if connection is not None:
            connection.last_error = f"{type(exc).__name__}: {exc}"[:500]
