"""Bring Strava's activities in: the backfill on connect, incremental syncs by start time, and
webhook events (fetch the activity's current state, so duplicates and disorder do no harm)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import requests
from sqlalchemy import select

from integrations.errors import AuthExpired, NotFound, RateLimited
from integrations.strava.client import StravaClient
from integrations.strava.limits import RateUsage
from integrations.strava.webhooks import WebhookEvent
from integrations.types import ExternalActivity
from service.crypto import SealBroken
from service.db import Database
from service.models import Activity, ActivitySource, Connection, Runner, utcnow
from service.settings import Settings
from service.usecases.activity_sources import ingest, remove_from_source, source_link
from service.usecases.grants import mark_needs_reconnect
from service.usecases.strava_connection import (
    connection_of_athlete,
    endpoints,
    forget,
    fresh_grant,
    strava_connection,
)

SOURCE, ORIGIN = "strava", "Strava"
BACKFILL = timedelta(weeks=16)
SYNC_OVERLAP = timedelta(days=7)  # a run uploaded days late still starts after cursor - overlap
WINDOW_EDGE = timedelta(hours=1)  # a twin's start may differ a little from Strava's own
# Calls of each rate-limit window left unused: webhook work may spend everything, the backfill
# a runner waits for nearly all, periodic reconcile syncs stop well before.
EVENT_RESERVE, BACKFILL_RESERVE, SYNC_RESERVE = 0, 10, 30
T = TypeVar("T")


class UsageStore(Protocol):
    """Where the application's last seen rate-limit usage is kept between jobs."""

    def load(self) -> RateUsage | None: ...
    def save(self, usage: RateUsage) -> None: ...


class NotConnected(LookupError):
    """The runner (or the event's athlete) has no usable Strava connection."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one piece of Strava work changed."""

    new: int = 0
    linked: int = 0
    updated: int = 0
    removed: int = 0
    note: str = ""


class StravaWork:
    """Strava work for the job queue: fresh tokens first, a client seeded with the usage the
    last job saw, one token refresh on a 401, then the connection waits for a reconnect."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        session: requests.Session,
        usage: UsageStore,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db, self.settings, self.session, self.usage, self.clock = (
            db, settings, session, usage, clock,
        )  # fmt: skip

    def backfill(self, runner_id: int) -> SyncReport:
        """The last 16 weeks (or on from where an interrupted backfill got to)."""
        return self._pull(runner_id, BACKFILL_RESERVE)

    def sync(self, runner_id: int) -> SyncReport:
        """Activities that started since the stored cursor (less an overlap)."""
        return self._pull(runner_id, SYNC_RESERVE)

    def apply(self, payload: Mapping[str, Any]) -> SyncReport:
        """Apply one webhook event; ValueError when the payload is not an event."""
        event = WebhookEvent.parse(payload)
        runner_id = runner_of(self.db, payload)
        if runner_id is None:
            return SyncReport(note=f"no runner has Strava athlete {event.owner_id}")
        if event.is_deauthorization:
            return self._deauthorized(runner_id)
        if event.object_type != "activity":
            return SyncReport(note="nothing to do for an athlete update")
        if event.aspect_type == "delete":
            return self._remove(runner_id, str(event.object_id))
        if event.aspect_type == "update" and "private" not in event.updates:
            deferred = self._defer(runner_id, str(event.object_id))
            if deferred is not None:
                return deferred
        return self._fetch(runner_id, event.object_id)

    def _defer(self, runner_id: int, activity_id: str) -> SyncReport | None:
        """An edit of a run we have, inside the window a reconcile reads: make the runner due
        for one (it reads every edit since in one call, in a quiet quarter). None: fetch now."""
        with self.db.session() as db:
            link = source_link(db, runner_id, SOURCE, activity_id)
            connection = strava_connection(db, runner_id)
            cursor = _cursor(connection)
            if link is None or connection is None or cursor is None:
                return None
            start = db.get_one(Activity, link.activity_id).start_utc
            if start <= cursor - SYNC_OVERLAP + WINDOW_EDGE:
                return None
            connection.owed_since = connection.owed_since or self.clock()
        return SyncReport(note="the edit is read with the next reconcile")

    def _fetch(self, runner_id: int, activity_id: int) -> SyncReport:
        """Read the activity's current state: stale and repeated events do no harm, and an edit
        event's ``updates`` name only title, type and privacy, not every field that changed."""
        try:
            activity = self._call(runner_id, EVENT_RESERVE, lambda c: c.activity(activity_id))
        except NotFound:  # deleted since, or private without activity:read_all
            return self._remove(runner_id, str(activity_id))
        return self._store(runner_id, [activity], cursor=None)

    def _pull(self, runner_id: int, reserve: int) -> SyncReport:
        with self.db.session() as db:
            connection = strava_connection(db, runner_id)
            cursor = _cursor(connection)
        after = self.clock() - BACKFILL if cursor is None else cursor - SYNC_OVERLAP
        got: list[ExternalActivity] = []

        def fetch(client: StravaClient) -> None:
            got.clear()
            got.extend(client.activities(after=after))

        try:
            self._call(runner_id, reserve, fetch)
        except RateLimited:  # keep the pages read before the limit: the retry goes on from there
            self._store(runner_id, got, cursor=_latest(got, cursor), finished=False)
            raise
        report = self._store(runner_id, got, cursor=_latest(got, cursor) or after)
        return replace(report, removed=self._vanished(runner_id, after, got))

    def _vanished(self, runner_id: int, after: datetime, listed: list[ExternalActivity]) -> int:
        """Drop what Strava no longer lists in the window just read in full (deleted, or made
        private without activity:read_all): the delete events that never reached us."""
        keep = {a.source_id for a in listed}
        with self.db.session() as db:
            runner = db.get_one(Runner, runner_id)
            stored = db.scalars(
                select(ActivitySource.source_id)
                .join(Activity, Activity.id == ActivitySource.activity_id)
                .where(
                    ActivitySource.runner_id == runner_id,
                    ActivitySource.source == SOURCE,
                    Activity.start_utc > after + WINDOW_EDGE,
                )
            ).all()
            gone = [source_id for source_id in stored if source_id not in keep]
            return sum(remove_from_source(db, runner, SOURCE, source_id) for source_id in gone)

    def _deauthorized(self, runner_id: int) -> SyncReport:
        """Check with Strava (a refresh costs no API call): an unsigned event alone must not
        delete a runner's data. A grant Strava still honours means the event was not real."""
        try:
            with self.db.session() as db:
                connection = strava_connection(db, runner_id)
                if connection is not None:
                    fresh_grant(
                        db, connection, self.settings, self.session, self.clock(), force=True
                    )
            return SyncReport(note="Strava still honours the grant: event ignored")
        except (AuthExpired, SealBroken):
            pass
        with self.db.session() as db:
            connection = strava_connection(db, runner_id)
            if connection is None:
                return SyncReport()
            return SyncReport(removed=forget(db, db.get_one(Runner, runner_id), connection))

    def _call(self, runner_id: int, reserve: int, work: Callable[[StravaClient], T]) -> T:
        """Run ``work`` with a client for the runner; a 401 refreshes once, a second marks."""
        for forced in (False, True):
            client = StravaClient(
                self._token(runner_id, forced), endpoints(self.settings), self.session,
                reserve=reserve, usage=self.usage.load(), clock=self.clock,
            )  # fmt: skip
            try:
                return work(client)
            except AuthExpired as exc:
                if forced:
                    self._mark(runner_id, f"Strava refused the grant ({exc})")
                    raise
            finally:
                if client.usage is not None:
                    self.usage.save(client.usage)
        raise AssertionError("unreachable")

    def _token(self, runner_id: int, forced: bool) -> str:
        """A fresh access token, committed with any rotated refresh token before it is used."""
        failed: Exception | None = None
        with self.db.session() as db:
            connection = strava_connection(db, runner_id)
            if connection is None:
                raise NotConnected(f"runner {runner_id} has no Strava connection")
            try:
                grant = fresh_grant(
                    db, connection, self.settings, self.session, self.clock(), force=forced
                )
            except AuthExpired as exc:  # fresh_grant marked the connection
                failed = exc
            except SealBroken as exc:
                mark_needs_reconnect(db, connection, str(exc))
                failed = AuthExpired(str(exc))
        if failed is not None:
            raise failed
        return grant.access_token

    def _mark(self, runner_id: int, reason: str) -> None:
        with self.db.session() as db:
            connection = strava_connection(db, runner_id)
            if connection is not None:
                mark_needs_reconnect(db, connection, reason)

    def _store(
        self,
        runner_id: int,
        activities: list[ExternalActivity],
        *,
        cursor: datetime | None,
        finished: bool = True,
    ) -> SyncReport:
        with self.db.session() as db:
            runner = db.get_one(Runner, runner_id)
            got = ingest(db, runner, activities, ORIGIN)
            connection = strava_connection(db, runner_id)
            if connection is not None and cursor is not None:
                connection.sync_token = str(int(cursor.timestamp()))
            if connection is not None and finished:
                connection.last_sync_at, connection.last_error = self.clock(), ""
                if cursor is not None:  # a full read: the scheduler counts from here
                    connection.reconciled_at, connection.owed_since = connection.last_sync_at, None
        return SyncReport(new=got.new, linked=got.linked, updated=got.updated)

    def _remove(self, runner_id: int, activity_id: str) -> SyncReport:
        with self.db.session() as db:
            removed = remove_from_source(db, db.get_one(Runner, runner_id), SOURCE, activity_id)
        return SyncReport(removed=int(removed))


def runner_of(db: Database, payload: Mapping[str, Any]) -> int | None:
    """The runner a webhook payload is about; None when no runner has that athlete.

    ValueError when the payload is not an event."""
    event = WebhookEvent.parse(payload)
    with db.session() as session:
        connection = connection_of_athlete(session, event.owner_id)
        return None if connection is None else connection.runner_id


def _cursor(connection: Connection | None) -> datetime | None:
    """The start (UTC) of the latest activity a sync has seen, from ``sync_token``."""
    token = connection.sync_token if connection is not None else None
    return datetime.fromtimestamp(int(token), UTC) if token and token.isdigit() else None


def _latest(activities: list[ExternalActivity], cursor: datetime | None) -> datetime | None:
    starts = [a.start_utc for a in activities] + ([cursor] if cursor else [])
    return max(starts, default=None)
