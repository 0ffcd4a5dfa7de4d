"""The outside services a runner can connect, and where each stands, as rows for the page and API.

A connection type is one entry in ``KINDS``. Issues that add a connect flow give their entry a
``state`` reader (and endpoint names); the page needs no change to show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy.orm import Session as DbSession

from service.models import Runner
from service.settings import Settings
from service.usecases.google_connection import google_connection
from service.usecases.grants import CONNECTED
from service.usecases.intervals_connection import intervals_connection
from service.usecases.strava_connection import strava_connection


class State(Enum):
    """Where one connection of one runner stands."""

    NOT_CONNECTED = "not_connected"
    CONNECTED = "connected"
    NEEDS_RECONNECTION = "needs_reconnection"


@dataclass(frozen=True, slots=True)
class Status:
    """What a connection's state reader reports for a runner."""

    state: State
    last_sync: datetime | None = None
    account: str | None = None  # whom it is connected as, e.g. an email or athlete name
    problem: str | None = None  # why it needs reconnecting, in words
    reminder_minutes: int | None = None  # calendars: the popup lead time the runner chose


def _never_connected(db: DbSession, runner: Runner) -> Status:
    """The state of connection types whose flows are not built yet."""
    return Status(State.NOT_CONNECTED)


def _google_state(db: DbSession, runner: Runner) -> Status:
    """The Google Calendar connection as stored."""
    found = google_connection(db, runner.id)
    if found is None:
        return Status(State.NOT_CONNECTED)
    state = State.CONNECTED if found.state == CONNECTED else State.NEEDS_RECONNECTION
    return Status(
        state,
        found.last_sync_at,
        found.account or None,
        found.last_error or None,
        found.reminder_minutes,
    )


def _intervals_state(db: DbSession, runner: Runner) -> Status:
    """The intervals.icu connection (an API key) as stored."""
    found = intervals_connection(db, runner.id)
    if found is None:
        return Status(State.NOT_CONNECTED)
    state = State.CONNECTED if found.state == CONNECTED else State.NEEDS_RECONNECTION
    return Status(state, found.last_sync_at, found.account or None, found.last_error or None)


def _strava_state(db: DbSession, runner: Runner) -> Status:
    """The Strava connection as stored (its account is the athlete id)."""
    found = strava_connection(db, runner.id)
    if found is None:
        return Status(State.NOT_CONNECTED)
    state = State.CONNECTED if found.state == CONNECTED else State.NEEDS_RECONNECTION
    account = f"Strava athlete {found.account}"
    return Status(state, found.last_sync_at, account, found.last_error or None)


@dataclass(frozen=True, slots=True)
class Kind:
    """One type of connection: what it is for, when this server offers it, how to read its state."""

    key: str
    name: str
    purpose: str
    configured: Callable[[Settings], bool]
    missing: str  # why it is not offered, when ``configured`` says no
    state: Callable[[DbSession, Runner], Status] = _never_connected
    connect_endpoint: str | None = None  # a POST form action; None until its flow exists
    disconnect_endpoint: str | None = None
    disconnect_choice: str | None = None  # a checkbox offered with disconnecting (remove_data)


KINDS: tuple[Kind, ...] = (
    Kind(
        key="google_calendar",
        name="Google Calendar",
        purpose="Writes your sessions straight into a Google calendar, updated within minutes "
        "instead of Google's usual 8 to 24 hours for subscribed feeds.",
        configured=lambda s: bool(s.google_client_id and s.google_client_secret),
        missing="This server has no Google client set up (RUNSTRENGTH_GOOGLE_CLIENT_ID and "
        "RUNSTRENGTH_GOOGLE_CLIENT_SECRET).",
        state=_google_state,
        connect_endpoint="connect.google_start",
        disconnect_endpoint="connect.google_disconnect",
        disconnect_choice="Also delete the runstrength calendar and its sessions from Google",
    ),
    Kind(
        key="strava",
        name="Strava",
        purpose="Reads your runs from Strava as you record them, so the plan follows what you "
        "actually ran without uploading files.",
        configured=lambda s: bool(s.strava_client_id and s.strava_client_secret),
        missing="This server has no Strava client set up (RUNSTRENGTH_STRAVA_CLIENT_ID and "
        "RUNSTRENGTH_STRAVA_CLIENT_SECRET).",
        state=_strava_state,
        connect_endpoint="strava.connect",
        disconnect_endpoint="strava.disconnect_strava",
        disconnect_choice=None,
    ),
    Kind(
        key="intervals_icu",
        name="intervals.icu",
        purpose="Reads your runs from intervals.icu and puts your sessions on its calendar, "
        "by signing in to intervals.icu or with an API key from its settings.",
        configured=lambda s: True,  # each runner brings their own API key
        missing="",
        state=_intervals_state,
        connect_endpoint="intervals.connect_key",
        disconnect_endpoint="intervals.disconnect_key",
        disconnect_choice="Also remove the sessions we sent to your intervals.icu calendar",
    ),
)


@dataclass(frozen=True, slots=True)
class Row:
    """One connection type as one runner sees it."""

    key: str
    name: str
    purpose: str
    available: bool
    missing: str
    status: Status
    connect_endpoint: str | None
    disconnect_endpoint: str | None
    disconnect_choice: str | None


def connection_rows(db: DbSession, runner: Runner, settings: Settings) -> list[Row]:
    """Every connection type, in page order, with the runner's state of each."""
    rows = []
    for kind in KINDS:
        available = kind.configured(settings)
        rows.append(
            Row(
                key=kind.key,
                name=kind.name,
                purpose=kind.purpose,
                available=available,
                missing="" if available else kind.missing,
                status=kind.state(db, runner),
                connect_endpoint=kind.connect_endpoint,
                disconnect_endpoint=kind.disconnect_endpoint,
                disconnect_choice=kind.disconnect_choice,
            )
        )
    return rows


def provider_name(key: str) -> str:
    """A connection type's name for people (its key when unknown)."""
    return next((kind.name for kind in KINDS if kind.key == key), key)
