"""The runner's intervals.icu connection: a personal API key checked with one call and kept
sealed (or an OAuth token, see intervals_oauth), whether our sessions go to its calendar, and
disconnecting.

``Connection.scopes`` tells the two apart: "" for an API key, the granted scopes (never empty,
ACTIVITY:READ at least) for an OAuth token, which is then sent as a bearer token."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from integrations.errors import AuthExpired, IntegrationError
from integrations.intervals_icu.client import IntervalsClient
from integrations.intervals_icu.mapping import SOURCE
from integrations.intervals_icu.oauth import CALENDAR_READ, CALENDAR_WRITE, allows
from integrations.types import PlannedRun, TokenSet
from service.crypto import Sealer
from service.models import Connection, PlannedRunRecord, RemoteEvent, Runner
from service.settings import Settings
from service.usecases.grants import CONNECTED
from service.usecases.oauth_states import ConnectFailed
from service.usecases.runners import mark_plan_changed

PROVIDER = SOURCE  # "intervals_icu"
OWN_ATHLETE = "0"  # intervals.icu's name for the key's own athlete
MAX_KEY_LENGTH = 200


def intervals_connection(db: DbSession, runner_id: int) -> Connection | None:
    """The runner's intervals.icu connection, if any."""
    return db.scalars(
        select(Connection).where(Connection.runner_id == runner_id, Connection.provider == PROVIDER)
    ).first()


def uses_oauth(connection: Connection) -> bool:
    """Whether the stored secret is an OAuth token (sent as bearer) rather than an API key."""
    return bool(connection.scopes.strip())


def granted_scopes(connection: Connection) -> frozenset[str]:
    """The scopes an OAuth token was granted; empty for an API key (which may do everything)."""
    return frozenset(connection.scopes.split())


def push_refusal(connection: Connection) -> str | None:
    """Why our sessions cannot go to the intervals.icu calendar with this connection, if so."""
    if not uses_oauth(connection) or allows(granted_scopes(connection), CALENDAR_WRITE):
        return None
    return (
        "intervals.icu was connected without permission to write to your calendar, so "
        "sessions cannot be sent there; connect with intervals.icu again and leave "
        "calendar access ticked to send them"
    )


class _WithoutCalendar(IntervalsClient):
    """A client for a token that may not read the calendar: it knows of no planned runs."""

    def planned_runs(self, oldest: date, newest: date) -> list[PlannedRun]:
        return []


def intervals_client(
    connection: Connection, settings: Settings, session: requests.Session
) -> IntervalsClient:
    """A client speaking with the stored key or token (SealBroken when the server's keys
    changed); a token without calendar access skips planned runs rather than fail."""
    if connection.grant is None:
        raise AuthExpired("no intervals.icu API key is stored")
    secret = Sealer.from_settings(settings).open(connection.grant).access_token
    oauth = uses_oauth(connection)
    calendar = not oauth or allows(granted_scopes(connection), CALENDAR_READ)
    kind = IntervalsClient if calendar else _WithoutCalendar
    return kind(secret, settings.intervals_api_root, session, OWN_ATHLETE, oauth=oauth)


def connect(
    db: DbSession,
    runner: Runner,
    settings: Settings,
    session: requests.Session,
    *,
    api_key: str,
    now: datetime,
) -> Connection:
    """Check the key with one read of today's activities, then store it sealed."""
    key = api_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or any(c.isspace() for c in key):
        raise ConnectFailed("paste the API key from intervals.icu's Settings, Developer Settings")
    sealer = Sealer.from_settings(settings)  # refuse before calling out when keys are missing
    today = now.astimezone(ZoneInfo(runner.timezone)).date()
    try:
        IntervalsClient(key, settings.intervals_api_root, session).activities(today, today)
    except AuthExpired:
        raise ConnectFailed(
            "intervals.icu did not accept this API key: copy it again from its Settings, "
            "Developer Settings"
        ) from None
    except IntegrationError as exc:
        raise ConnectFailed(f"intervals.icu could not be asked ({exc}): try again later") from None
    connection = intervals_connection(db, runner.id) or Connection(
        runner_id=runner.id, provider=PROVIDER, scopes="", account="", last_error=""
    )
    connection.grant = sealer.seal(TokenSet(key, None, None, frozenset()))
    connection.scopes, connection.account = "", ""  # a key replaces any OAuth token
    connection.state, connection.last_error = CONNECTED, ""
    db.add(connection)
    db.flush()
    return connection


def push_enabled(connection: Connection) -> bool:
    """Whether the runner asked for our sessions on their intervals.icu calendar.

    The calendar we write to is kept in ``calendar_id`` (the key's own athlete); None: no push.
    A token without calendar write keeps the wish but sends nothing."""
    return connection.calendar_id is not None and push_refusal(connection) is None


def set_push(db: DbSession, connection: Connection, on: bool) -> None:
    """Turn sending our sessions to the intervals.icu calendar on or off."""
    connection.calendar_id = OWN_ATHLETE if on else None
    db.flush()


def pushed_uids(db: DbSession, connection: Connection) -> list[str]:
    """Uids of the sessions we put on the runner's intervals.icu calendar."""
    return list(
        db.scalars(
            select(RemoteEvent.uid)
            .where(RemoteEvent.connection_id == connection.id)
            .order_by(RemoteEvent.uid)
        )
    )


def forget_pushed(db: DbSession, connection: Connection) -> None:
    """Forget what we sent (after deleting it there, or when the runner keeps it)."""
    db.execute(delete(RemoteEvent).where(RemoteEvent.connection_id == connection.id))


def disconnect(
    db: DbSession,
    connection: Connection,
    settings: Settings,
    session: requests.Session,
    *,
    remove_sessions: bool = False,
) -> None:
    """Optionally delete the sessions we sent, then forget the key and the planned runs.

    intervals.icu's side is best effort: a dead key must not keep the runner connected."""
    if remove_sessions:
        with suppress(IntegrationError, ValueError):
            intervals_client(connection, settings, session).delete_events(
                pushed_uids(db, connection)
            )
    forget_pushed(db, connection)
    planned = db.execute(
        delete(PlannedRunRecord).where(
            PlannedRunRecord.runner_id == connection.runner_id, PlannedRunRecord.source == SOURCE
        )
    )
    if getattr(planned, "rowcount", 0):
        mark_plan_changed(db.get_one(Runner, connection.runner_id))
    db.delete(connection)
    db.flush()
