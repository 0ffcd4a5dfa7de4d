"""The runner's Google Calendar connection: connect (OAuth with PKCE), keep the grant fresh,
mark it for reconnection when Google refuses it, and disconnect."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from integrations.calendar.google import GoogleCalendar
from integrations.errors import IntegrationError
from integrations.google.oauth import CALENDAR_SCOPE, GoogleOAuth, OAuthEndpoints
from integrations.types import TokenSet
from service.crypto import SealBroken, Sealer
from service.models import Connection, RemoteEvent, utcnow
from service.settings import Settings
from service.usecases.grants import CONNECTED, fresh_tokens
from service.usecases.oauth_states import ConnectFailed, remember_state, take_state

PROVIDER = "google_calendar"
REFRESH_MARGIN = timedelta(minutes=5)  # refresh a little before Google's expiry


@dataclass(frozen=True, slots=True)
class Consent:
    """Where to send the runner to give consent, and the state that will bring them back."""

    url: str
    state: str


def oauth_client(settings: Settings, session: requests.Session) -> GoogleOAuth:
    """The OAuth client for the configured Google app and endpoints."""
    endpoints = OAuthEndpoints.for_root(settings.google_oauth_root)
    return GoogleOAuth(settings.google_client_id, settings.google_client_secret, endpoints, session)


def callback_url(settings: Settings) -> str:
    """Where Google sends the runner back to (registered with the Google app)."""
    return settings.base_url.rstrip("/") + "/connect/google/callback"


def google_connection(db: DbSession, runner_id: int) -> Connection | None:
    """The runner's Google Calendar connection, if any."""
    return db.scalars(
        select(Connection).where(Connection.runner_id == runner_id, Connection.provider == PROVIDER)
    ).first()


def start_connect(
    db: DbSession, runner_id: int, settings: Settings, session: requests.Session, now: datetime
) -> Consent:
    """Remember a fresh state and PKCE verifier, and build the consent URL."""
    Sealer.from_settings(settings)  # refuse early when grants could not be stored
    state, pkce = remember_state(db, PROVIDER, runner_id, now)
    url = oauth_client(settings, session).authorization_url(
        redirect_uri=callback_url(settings), state=state, code_challenge=pkce.challenge
    )
    return Consent(url, state)


def finish_connect(
    db: DbSession,
    runner_id: int,
    settings: Settings,
    session: requests.Session,
    *,
    state: str,
    code: str,
    now: datetime,
) -> Connection:
    """Check the state, exchange the code, check the scope and store the sealed grant."""
    pending = take_state(db, state, PROVIDER, runner_id, now)
    try:
        grant = oauth_client(settings, session).exchange(
            code=code,
            redirect_uri=callback_url(settings),
            code_verifier=pending.code_verifier,
            now=now,
        )
    except IntegrationError as exc:
        raise ConnectFailed(f"Google did not accept the sign-in ({exc}): start again") from None
    if CALENDAR_SCOPE not in grant.scopes:
        raise ConnectFailed(
            "Google did not grant access to calendars that runstrength creates: "
            "connect again and leave that box ticked"
        )
    return _store(db, runner_id, grant, settings)


def _store(db: DbSession, runner_id: int, grant: TokenSet, settings: Settings) -> Connection:
    connection = google_connection(db, runner_id) or Connection(
        runner_id=runner_id, provider=PROVIDER, scopes="", account="", last_error=""
    )
    old = Sealer.from_settings(settings).open(connection.grant) if connection.grant else None
    if grant.refresh_token is None and old is not None:  # Google sends it only the first time
        grant = TokenSet(grant.access_token, old.refresh_token, grant.expires_at, grant.scopes)
    connection.grant = Sealer.from_settings(settings).seal(grant)
    connection.scopes = " ".join(sorted(grant.scopes))
    connection.state, connection.last_error = CONNECTED, ""
    db.add(connection)
    db.flush()
    return connection


def fresh_grant(
    db: DbSession,
    connection: Connection,
    settings: Settings,
    session: requests.Session,
    now: datetime,
) -> TokenSet:
    """A grant whose access token is good for a while; a refreshed one is stored at once.

    AuthExpired (revoked, expired, testing-mode 7-day limit) marks the connection and re-raises.
    """
    client = oauth_client(settings, session)
    return fresh_tokens(
        db, connection, settings, now, service="Google", margin=REFRESH_MARGIN,
        refresh=lambda grant: client.refresh(grant.refresh_token or "", now),
    )  # fmt: skip


REMINDER_CHOICES = (0, 5, 10, 15, 30, 60, 120)


def set_reminder(db: DbSession, connection: Connection, minutes: int) -> None:
    """The popup lead time for our events; the next publish patches every event."""
    if minutes not in REMINDER_CHOICES:
        raise ConnectFailed(f"choose one of {', '.join(map(str, REMINDER_CHOICES))} minutes")
    connection.reminder_minutes = minutes
    db.flush()


def disconnect(
    db: DbSession,
    connection: Connection,
    settings: Settings,
    session: requests.Session,
    *,
    remove_calendar: bool = False,
    now: datetime | None = None,
) -> None:
    """Optionally delete our calendar, revoke the grant at Google, forget it all.

    Google's side is best effort: a revoked grant, a calendar already gone or Google being down
    must not keep the runner connected.
    """
    try:
        grant = fresh_grant(db, connection, settings, session, now or utcnow())
    except (IntegrationError, SealBroken):
        grant = None
    if grant is not None and remove_calendar and connection.calendar_id:
        calendar = GoogleCalendar(
            access_token=grant.access_token, api_root=settings.google_api_root, session=session
        )
        with suppress(IntegrationError):
            calendar.delete_calendar(connection.calendar_id)
    if grant is not None:
        with suppress(IntegrationError):
            oauth_client(settings, session).revoke(grant.refresh_token or grant.access_token)
    db.execute(delete(RemoteEvent).where(RemoteEvent.connection_id == connection.id))
    db.delete(connection)
    db.flush()
