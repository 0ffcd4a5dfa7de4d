"""Read a runner's intervals.icu: activities (Strava stubs skipped and counted) and the planned
runs of the coming weeks, which replace the stored ones so the plan goes around them.

Network calls happen outside database transactions; each write is its own short transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import Select, select
from sqlalchemy.orm import Session as DbSession

from integrations.errors import AuthExpired, IntegrationError
from integrations.intervals_icu.client import IntervalsActivities, IntervalsClient
from integrations.intervals_icu.mapping import SOURCE
from integrations.types import CalendarEvent, PlannedRun
from service.crypto import SealBroken
from service.db import Database
from service.models import Connection, PlannedRunRecord, RemoteEvent, Runner
from service.settings import Settings
from service.usecases.activity_sources import ingest
from service.usecases.grants import CONNECTED, mark_needs_reconnect
from service.usecases.intervals_connection import (
    intervals_client,
    intervals_connection,
    push_enabled,
)
from service.usecases.publish_plan import feed_window, shown_digest, window_events
from service.usecases.runners import mark_plan_changed

BACKFILL = timedelta(weeks=16)  # the first sync reads this far back, as the planner looks
OVERLAP = timedelta(days=2)  # later syncs re-read this much before the last one (late uploads)
PLANNED_AHEAD = timedelta(weeks=6)
MAX_STUBS = 1000  # stub ids remembered, for the count on the connections page
SYNCED, NOT_CONNECTED, NEEDS_RECONNECT = "synced", "not_connected", "needs_reconnect"


@dataclass(frozen=True, slots=True)
class IntervalsReport:
    """What one sync did, or why it did nothing (``state`` other than synced)."""

    stored: int = 0  # new activities
    linked: int = 0  # activities we had from another source, now linked (or updated)
    stubs_skipped: int = 0  # activities intervals.icu got from Strava and withholds
    planned: int = 0  # planned runs now stored for the coming weeks
    state: str = SYNCED
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Cursor:
    """What ``Connection.sync_token`` keeps: the local date of the last sync, stub ids seen."""

    since: date | None = None
    stubs: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> Cursor:
        try:
            raw: Any = json.loads(text or "{}")
            since = raw.get("since")
            return cls(date.fromisoformat(since) if since else None, tuple(raw.get("stubs", ())))
        except (ValueError, TypeError, AttributeError):
            return cls()  # unreadable: read everything again

    def dump(self) -> str:
        since = self.since.isoformat() if self.since else None
        return json.dumps({"since": since, "stubs": list(self.stubs)})


@dataclass(frozen=True, slots=True)
class _Target:
    connection_id: int
    client: IntervalsClient
    today: date
    cursor: Cursor


def stubs_seen(connection: Connection) -> int:
    """How many activities intervals.icu withheld because they came from Strava."""
    return len(Cursor.parse(connection.sync_token).stubs)


def sync_intervals(
    db: Database, settings: Settings, runner_id: int, *, now: datetime, session: requests.Session
) -> IntervalsReport:
    """Bring the runner's activities and planned runs in step with intervals.icu.

    Idempotent. RateLimited and UpstreamError propagate (noted on the connection) for the job
    layer to retry; a refused key marks the connection and returns needs_reconnect."""
    target = _target(db, settings, runner_id, now, session)
    if isinstance(target, IntervalsReport):
        return target
    oldest = target.cursor.since - OVERLAP if target.cursor.since else target.today - BACKFILL
    try:
        read = target.client.activities(oldest, target.today + timedelta(days=1))
        planned = target.client.planned_runs(target.today, target.today + PLANNED_AHEAD)
    except IntegrationError as exc:
        _record_failure(db, target.connection_id, exc)
        if isinstance(exc, AuthExpired):
            return IntervalsReport(state=NEEDS_RECONNECT, detail=str(exc))
        raise
    return _store(db, runner_id, target, read, planned, now=now)


def _target(
    db: Database, settings: Settings, runner_id: int, now: datetime, session: requests.Session
) -> _Target | IntervalsReport:
    with db.session() as s:
        connection = intervals_connection(s, runner_id)
        if connection is None:
            return IntervalsReport(state=NOT_CONNECTED, detail="no intervals.icu connection")
        if connection.state != CONNECTED:
            return IntervalsReport(state=NEEDS_RECONNECT, detail=connection.last_error)
        try:
            client = intervals_client(connection, settings, session)
        except (SealBroken, AuthExpired) as exc:
            mark_needs_reconnect(s, connection, str(exc))
            return IntervalsReport(state=NEEDS_RECONNECT, detail=str(exc))
        zone = ZoneInfo(s.get_one(Runner, runner_id).timezone)
        cursor = Cursor.parse(connection.sync_token)
        return _Target(connection.id, client, now.astimezone(zone).date(), cursor)


def _store(
    db: Database,
    runner_id: int,
    target: _Target,
    read: IntervalsActivities,
    planned: Sequence[PlannedRun],
    *,
    now: datetime,
) -> IntervalsReport:
    with db.session() as s:
        runner = s.get_one(Runner, runner_id)
        ingested = ingest(s, runner, read.activities, origin="intervals.icu")
        last = target.today + PLANNED_AHEAD
        replace_planned(s, runner, planned, target.today, last)
        stubs = dict.fromkeys((*target.cursor.stubs, *read.stubs))  # ordered, no repeats
        connection = s.get_one(Connection, target.connection_id)
        connection.sync_token = Cursor(target.today, tuple(stubs)[-MAX_STUBS:]).dump()
        connection.last_sync_at, connection.last_error = now, ""
    return IntervalsReport(
        stored=ingested.new,
        linked=ingested.linked + ingested.updated,
        stubs_skipped=len(read.stubs),
        planned=len(planned),
    )


def replace_planned(
    db: DbSession, runner: Runner, planned: Sequence[PlannedRun], first: date, last: date
) -> bool:
    """Make the stored planned runs from ``first`` to ``last`` these; True when that changed.

    intervals.icu gives planned runs no stable id here, so a run is keyed by its day and place."""
    stored = db.scalars(
        select(PlannedRunRecord).where(
            PlannedRunRecord.runner_id == runner.id,
            PlannedRunRecord.source == SOURCE,
            PlannedRunRecord.day.between(first, last),
        )
    ).all()
    fresh = _records(runner.id, [p for p in planned if first <= p.day <= last])
    if {_shown(r) for r in stored} == {_shown(r) for r in fresh}:
        return False
    for row in stored:
        db.delete(row)
    db.flush()  # the fresh rows may reuse the deleted rows' keys
    db.add_all(fresh)
    mark_plan_changed(runner)
    return True


def _records(runner_id: int, planned: Sequence[PlannedRun]) -> list[PlannedRunRecord]:
    records, seen = [], dict[date, int]()
    for run in planned:
        seen[run.day] = seen.get(run.day, 0) + 1
        start = run.start_local.strftime("%H:%M") if run.start_local else None
        records.append(
            PlannedRunRecord(
                runner_id=runner_id,
                source=SOURCE,
                source_id=f"{run.day.isoformat()}#{seen[run.day]}",
                day=run.day,
                kind=run.kind.value,
                distance_m=run.distance_m,
                start_local=start,
                duration_s=run.duration_s,
                name=run.name,
            )
        )
    return records


def _shown(r: PlannedRunRecord) -> tuple[Any, ...]:
    return (r.source_id, r.day, r.kind, r.distance_m, r.start_local, r.duration_s, r.name)


@dataclass(frozen=True, slots=True)
class PushReport:
    """What one push to the intervals.icu calendar did, or why it did nothing."""

    upserted: int = 0
    deleted: int = 0
    unchanged: int = 0
    state: str = SYNCED
    detail: str = ""


@dataclass(frozen=True, slots=True)
class _Push:
    connection_id: int
    client: IntervalsClient
    timezone: str
    upsert: list[CalendarEvent]
    gone: list[str]
    unchanged: int


def push_intervals(
    db: Database, settings: Settings, runner_id: int, *, now: datetime, session: requests.Session
) -> PushReport:
    """Put the feed window's sessions on the runner's intervals.icu calendar, when asked to.

    Upserts by ``external_id`` = our uid only what changed since the last push, and deletes only
    events we created whose sessions left the plan; the runner's own events are never touched."""
    push = _push_target(db, settings, runner_id, now, session)
    if isinstance(push, PushReport):
        return push
    try:
        if push.upsert:
            push.client.upsert_events(push.upsert, push.timezone)
        if push.gone:
            push.client.delete_events(push.gone)
    except IntegrationError as exc:
        _record_failure(db, push.connection_id, exc)
        if isinstance(exc, AuthExpired):
            return PushReport(state=NEEDS_RECONNECT, detail=str(exc))
        raise
    with db.session() as s:
        _record_push(s, push)
    return PushReport(len(push.upsert), len(push.gone), push.unchanged)


def _push_target(
    db: Database, settings: Settings, runner_id: int, now: datetime, session: requests.Session
) -> _Push | PushReport:
    with db.session() as s:
        connection = intervals_connection(s, runner_id)
        if connection is None or not push_enabled(connection):
            return PushReport(
                state=NOT_CONNECTED, detail="sending sessions to intervals.icu is off"
            )
        if connection.state != CONNECTED:
            return PushReport(state=NEEDS_RECONNECT, detail=connection.last_error)
        try:
            client = intervals_client(connection, settings, session)
        except (SealBroken, AuthExpired) as exc:
            mark_needs_reconnect(s, connection, str(exc))
            return PushReport(state=NEEDS_RECONNECT, detail=str(exc))
        runner = s.get_one(Runner, runner_id)
        today = now.astimezone(ZoneInfo(runner.timezone)).date()
        events = window_events(s, runner, base_url=settings.base_url, today=today, now=now)
        sent = {r.uid: r for r in s.scalars(_sent(connection.id))}
        upsert = [e for e in events if _pushed_hash(e, runner.timezone) != _hash_of(sent, e.uid)]
        window = feed_window(runner, today)
        keep_before = datetime.combine(window.start, time(), ZoneInfo(runner.timezone))
        planned = {e.uid for e in events}
        gone = sorted(
            uid for uid, r in sent.items() if uid not in planned and r.start_utc >= keep_before
        )
        unchanged = len(events) - len(upsert)
        return _Push(connection.id, client, runner.timezone, upsert, gone, unchanged)


def _record_push(db: DbSession, push: _Push) -> None:
    sent = {r.uid: r for r in db.scalars(_sent(push.connection_id))}
    for uid in push.gone:
        if uid in sent:
            db.delete(sent.pop(uid))
    for event in push.upsert:
        row = sent.get(event.uid) or RemoteEvent(connection_id=push.connection_id, uid=event.uid)
        row.event_id = event.uid  # intervals.icu finds our events by external_id
        row.content_hash = _pushed_hash(event, push.timezone)
        row.start_utc, row.end_utc = event.start.astimezone(UTC), event.end.astimezone(UTC)
        db.add(row)
    connection = db.get_one(Connection, push.connection_id)
    connection.last_error = ""


def _sent(connection_id: int) -> Select[RemoteEvent]:
    return select(RemoteEvent).where(RemoteEvent.connection_id == connection_id)


def _record_failure(db: Database, connection_id: int, exc: IntegrationError) -> None:
    """Note on the connection why intervals.icu failed: a refused grant waits for a reconnect."""
    with db.session() as s:
        connection = s.get_one(Connection, connection_id)
        if isinstance(exc, AuthExpired):
            mark_needs_reconnect(s, connection, f"intervals.icu refused our access ({exc})")
        else:
            connection.last_error = str(exc)


def _hash_of(sent: dict[str, RemoteEvent], uid: str) -> str | None:
    row = sent.get(uid)
    return None if row is None else row.content_hash


def _pushed_hash(event: CalendarEvent, timezone: str) -> str:
    """A digest of what intervals.icu shows of one session."""
    return shown_digest(event, timezone, ",".join(event.categories))
