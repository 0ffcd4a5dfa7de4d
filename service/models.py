"""The stored state: runners, their activities and a record of every file import."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: runstrength stores aware UTC datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def new_plan_key() -> str:
    """128 random bits, hex."""
    return secrets.token_hex(16)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Runner(Base):
    """A runner and the preferences that shape their plan."""

    __tablename__ = "runners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    units: Mapped[str] = mapped_column(String(2), default="km")
    week_start: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday ... 6 = Sunday
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Opaque key that session uids derive from, so uids carry nothing about the runner.
    plan_key: Mapped[str] = mapped_column(String(32), default=new_plan_key)
    # Bumped by every change to what the plan is built from; keys the cached feed renders.
    plan_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    activities: Mapped[list[Activity]] = relationship(
        back_populates="runner", cascade="all, delete-orphan", passive_deletes=True
    )


class ImportRecord(Base):
    """One file an import looked at, with what came of it."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_runner_sha256", "runner_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # imported | duplicate | not_running | rejected
    detail: Mapped[str] = mapped_column(Text, default="")
    activity_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Activity(Base):
    """One activity (one leg of a multisport file), normalised from any source."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("runner_id", "source", "source_id", name="uq_activities_source"),
        Index("ix_activities_runner_start", "runner_id", "start_utc"),
        Index("ix_activities_runner_local_date", "runner_id", "local_date"),
        Index("ix_activities_runner_fingerprint", "runner_id", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    origin: Mapped[str] = mapped_column(Text, default="")  # file name or service it came from
    sport: Mapped[str] = mapped_column(String(16))
    source_sport: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(Text)
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    utc_offset_s: Mapped[int | None] = mapped_column(Integer)  # None: source gave no offset
    local_date: Mapped[date] = mapped_column(Date)
    distance_m: Mapped[float] = mapped_column(Float)
    moving_s: Mapped[float | None] = mapped_column(Float)
    elapsed_s: Mapped[float | None] = mapped_column(Float)
    elevation_gain_m: Mapped[float | None] = mapped_column(Float)
    is_race: Mapped[bool] = mapped_column(Boolean, default=False)
    is_workout: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    runner: Mapped[Runner] = relationship(back_populates="activities")


class SessionOverride(Base):
    """A runner's decision about one planned session: moved or locked to a start, or skipped."""

    __tablename__ = "session_overrides"
    __table_args__ = (UniqueConstraint("runner_id", "uid", name="uq_session_overrides_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(8))  # move | skip | lock
    start_utc: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Feed(Base):
    """A runner's private feed: only a hash of the URL token is stored (the token is derived)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(
        ForeignKey("runners.id", ondelete="CASCADE"), unique=True
    )
    nonce: Mapped[str] = mapped_column(String(32), default=new_plan_key)  # rotation = new nonce
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedRender(Base):
    """The rendered bytes of one feed variant, valid while ``cache_key`` still matches."""

    __tablename__ = "feed_renders"
    __table_args__ = (UniqueConstraint("feed_id", "variant", name="uq_feed_renders_variant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    variant: Mapped[str] = mapped_column(String(8))  # full | busy
    cache_key: Mapped[str] = mapped_column(String(255))
    etag: Mapped[str] = mapped_column(String(80))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    body_gz: Mapped[bytes] = mapped_column(LargeBinary)


class PublishedSession(Base):
    """What a session looked like when last published: its SEQUENCE and last real change."""

    __tablename__ = "published_sessions"
    __table_args__ = (UniqueConstraint("runner_id", "uid", name="uq_published_sessions_uid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    revised_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Account(Base):
    """How a runner signs in: one email, an argon2 hash; raising ``session_epoch`` ends sessions."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(
        ForeignKey("runners.id", ondelete="CASCADE"), unique=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-cased
    password_hash: Mapped[str] = mapped_column(String(255))
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInThrottle(Base):
    """Failed sign-ins per key (a hash of an email or an address) within the current window."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ApiToken(Base):
    """A personal API token a runner created: only its hash is stored; revoking deletes it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Connection(Base):
    """A runner's link to an outside service: encrypted grant, state and sync bookkeeping."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("runner_id", "provider", name="uq_connections_provider"),
        Index("ix_connections_provider_reconciled", "provider", "reconciled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))  # google_calendar | strava | intervals_icu
    state: Mapped[str] = mapped_column(String(16))  # connected | needs_reconnect
    grant: Mapped[bytes | None] = mapped_column(LargeBinary)  # Fernet token of the TokenSet JSON
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated, as granted
    account: Mapped[str] = mapped_column(String(254), default="")  # whom it connects to
    calendar_id: Mapped[str | None] = mapped_column(String(1024))
    sync_token: Mapped[str | None] = mapped_column(Text)
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=15)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last full read
    owed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a full read is owed
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RemoteEvent(Base):
    """One of our sessions as last written to a connected calendar: its event id and hash."""

    __tablename__ = "remote_events"
    __table_args__ = (
        UniqueConstraint("connection_id", "uid", name="uq_remote_events_uid"),
        Index("ix_remote_events_connection_event", "connection_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(1024))
    content_hash: Mapped[str] = mapped_column(String(64))
    start_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    end_utc: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class OAuthState(Base):
    """An OAuth authorisation in flight: the state we sent and the PKCE verifier to finish it."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    # None while signing in with Google: there is no runner yet.
    runner_id: Mapped[int | None] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    code_verifier: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivitySource(Base):
    """One place an activity came from; an activity lives while at least one source has it."""

    __tablename__ = "activity_sources"
    __table_args__ = (
        UniqueConstraint("runner_id", "source", "source_id", name="uq_activity_sources_source"),
        Index("ix_activity_sources_activity", "activity_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    # fit | gpx | tcx | strava | intervals_icu | demo
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlannedRunRecord(Base):
    """A run on the runner's training calendar (intervals.icu), for the planner to go around."""

    __tablename__ = "planned_runs"
    __table_args__ = (
        UniqueConstraint("runner_id", "source", "source_id", name="uq_planned_runs_source"),
        Index("ix_planned_runs_runner_day", "runner_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    runner_id: Mapped[int] = mapped_column(ForeignKey("runners.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # easy | hard | long | race
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    start_local: Mapped[str | None] = mapped_column(String(5))  # HH:MM, runner's wall clock
    duration_s: Mapped[float | None] = mapped_column(Float)
    name: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
