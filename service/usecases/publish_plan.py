"""Publish a runner's plan as feed bytes: rolling window, session revisions, cached renders."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.calendar.ical import render_calendar
from integrations.types import CalendarEvent
from service.models import Feed, FeedRender, PublishedSession, Runner
from service.plan_view import session_description
from service.planning.model import Session
from service.planning.picture import week_start_of
from service.settings import Settings
from service.usecases.build_plan import Horizon, plan_for_runner

WEEKS_BACK = 2
WEEKS_AHEAD = 4
MAX_FEED_BYTES = 900_000  # Google stops reading subscribed feeds at about 1 MB
FULL, BUSY = "full", "busy"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One feed variant ready to serve."""

    body: bytes
    body_gz: bytes
    etag: str
    last_modified: datetime

    @property
    def bodies(self) -> tuple[bytes, bytes]:
        """(plain, gzipped): what a process keeps in memory by ETag."""
        return self.body, self.body_gz


def feed_window(runner: Runner, today: date) -> Horizon:
    """Two weeks back, this week and four weeks ahead."""
    start = week_start_of(today, runner.week_start) - timedelta(weeks=WEEKS_BACK)
    return Horizon(today=today, start=start, weeks=WEEKS_BACK + 1 + WEEKS_AHEAD)


def cache_key(plan_changed_at: datetime, settings: Settings, variant: str, today: date) -> str:
    """What a render depends on: the inputs' change time, the day, the variant, the base URL."""
    changed = plan_changed_at.astimezone(UTC).isoformat()
    return "|".join((variant, changed, today.isoformat(), settings.base_url))


def feed_for(
    db: DbSession, feed: Feed, runner: Runner, *, settings: Settings, variant: str, now: datetime
) -> Rendered:
    """The cached render when it is still valid, else a fresh one (which is then cached)."""
    today = now.astimezone(ZoneInfo(runner.timezone)).date()
    key = cache_key(runner.plan_changed_at, settings, variant, today)
    cached = db.scalars(
        select(FeedRender).where(FeedRender.feed_id == feed.id, FeedRender.variant == variant)
    ).first()
    if cached is not None and cached.cache_key == key:
        return Rendered(cached.body, cached.body_gz, cached.etag, cached.last_modified)
    body, newest = render_feed(db, runner, settings=settings, variant=variant, today=today, now=now)
    # Last-Modified comes from the data (so a lost cache changes nothing), but moves to now
    # when the bytes changed without a newer revision (the window rolled): no blind 304s.
    modified = max(t for t in (newest, runner.plan_changed_at, feed.rotated_at) if t is not None)
    modified = modified.astimezone(UTC).replace(microsecond=0)  # HTTP dates: whole seconds
    if cached is None:
        cached = FeedRender(feed_id=feed.id, variant=variant, last_modified=modified)
        db.add(cached)
    elif cached.body != body and cached.last_modified >= modified:
        modified = max(modified, now.astimezone(UTC).replace(microsecond=0))
    if cached.body != body or cached.last_modified < modified:
        cached.last_modified = modified
        cached.body, cached.body_gz = body, gzip.compress(body, mtime=0)
        cached.etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
    cached.cache_key = key
    db.flush()
    return Rendered(cached.body, cached.body_gz, cached.etag, cached.last_modified)


def render_feed(
    db: DbSession,
    runner: Runner,
    *,
    settings: Settings,
    variant: str,
    today: date,
    now: datetime,
) -> tuple[bytes, datetime | None]:
    """Plan the window, record visible changes, and render; oldest events go first if too big.

    Returns the bytes and the newest revision among the events they hold."""
    events = window_events(db, runner, base_url=settings.base_url, today=today, now=now)
    busy = variant == BUSY
    # The busy feed says nothing about the runner, not even where they live.
    name, zone = ("Busy", "UTC") if busy else ("runstrength", runner.timezone)
    while True:
        body = render_calendar(events, name=name, timezone=zone, busy=busy)
        if len(body) <= MAX_FEED_BYTES or not events:
            return body, max((e.revised for e in events), default=None)
        events = events[max(1, len(events) // 10) :]


def shown_digest(event: CalendarEvent, timezone: str, *extra: str) -> str:
    """A digest of what a calendar shows of one session (times, zone, text, and ``extra``), so
    an unchanged session is never written again."""
    shown = (
        event.start.astimezone(UTC).isoformat(),
        event.end.astimezone(UTC).isoformat(),
        timezone,
        event.summary,
        event.description,
        *extra,
    )
    return hashlib.sha256("\x1f".join(shown).encode("utf-8")).hexdigest()


def window_events(
    db: DbSession, runner: Runner, *, base_url: str, today: date, now: datetime
) -> list[CalendarEvent]:
    """The feed window's sessions as events, oldest first, with revisions: what calendars show."""
    plan = plan_for_runner(db, runner, feed_window(runner, today))
    sessions = sorted((s for w in plan.weeks for s in w.sessions), key=lambda s: (s.start, s.uid))
    return _events(db, runner, sessions, base_url, now)


def _events(
    db: DbSession, runner: Runner, sessions: Sequence[Session], base_url: str, now: datetime
) -> list[CalendarEvent]:
    stored = {
        p.uid: p
        for p in db.scalars(select(PublishedSession).where(PublishedSession.runner_id == runner.id))
    }
    events = []
    for session in sessions:
        url = f"{base_url.rstrip('/')}/#session-{session.uid}"
        description = f"{session_description(session)}\n\n{url}"
        row = stored.get(session.uid)
        revision = _revise(db, runner, row, session, description=description, now=now)
        events.append(
            CalendarEvent(
                uid=session.uid,
                start=session.start,
                end=session.end,
                summary=session.title,
                description=description,
                categories=(session.kind.value,),
                revised=revision.revised_at,
                sequence=revision.sequence,
                url=url,
            )
        )
    return events


def _revise(
    db: DbSession,
    runner: Runner,
    row: PublishedSession | None,
    session: Session,
    *,
    description: str,
    now: datetime,
) -> PublishedSession:
    """Bump SEQUENCE and the revision time only when what a calendar shows has changed."""
    visible = "\x1f".join(
        (session.start.isoformat(), session.end.isoformat(), session.title, description)
    )
    digest = hashlib.sha256(visible.encode("utf-8")).hexdigest()
    stamp = now.astimezone(UTC).replace(microsecond=0)
    if row is None:
        row = PublishedSession(
            runner_id=runner.id, uid=session.uid, content_hash=digest, sequence=0, revised_at=stamp
        )
        db.add(row)
    elif row.content_hash != digest:
        row.content_hash, row.sequence, row.revised_at = digest, row.sequence + 1, stamp
    return row
