"""The runner's Strava connection: connect (OAuth with state and the scopes the runner kept), keep
the grant fresh with Strava's rotating refresh tokens, and disconnect."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.errors import IntegrationError
from integrations.strava.oauth import READ, READ_ALL, StravaEndpoints, StravaGrant, StravaOAuth
from integrations.types import TokenSet
from service.crypto import SealBroken, Sealer
from service.models import Connection, Runner
from service.settings import Settings
from service.usecases.activity_sources import remove_all_from_source
from service.usecases.google_connection import Consent
from service.usecases.grants import CONNECTED, fresh_tokens
from service.usecases.oauth_states import ConnectFailed, remember_state, take_state

PROVIDER = "strava"
REFRESH_MARGIN = timedelta(minutes=10)  # Strava's access tokens live 6 hours
PRIVATE_MISSING = (
    "Strava shares only activities others can see: your private ones stay out until you "
    "connect again with “View data about your private activities” ticked"
)


@dataclass(frozen=True, slots=True)
class Connected:
    """A finished connection, and what the runner left unticked (None when nothing)."""

    connection: Connection
    missing: str | None


def endpoints(settings: Settings) -> StravaEndpoints:
    """Strava's hosts, or the configured stand-in (RUNSTRENGTH_STRAVA_API_ROOT)."""
    return StravaEndpoints.for_root(settings.strava_api_root)


def oauth_client(settings: Settings, session: requests.Session) -> StravaOAuth:
    """The OAuth client for the configured Strava app."""
    return StravaOAuth(
        settings.strava_client_id, settings.strava_client_secret, endpoints(settings), session
    )


def callback_url(settings: Settings) -> str:
    """Where Strava sends the runner back to (its host is the app's callback domain)."""
    return settings.base_url.rstrip("/") + "/connect/strava/callback"


def strava_connection(db: DbSession, runner_id: int) -> Connection | None:
    """The runner's Strava connection, if any."""
    return db.scalars(
        select(Connection).where(Connection.runner_id == runner_id, Connection.provider == PROVIDER)
    ).first()


def connection_of_athlete(db: DbSession, athlete_id: int) -> Connection | None:
    """The connection of a Strava athlete (webhooks name the owner, not the runner)."""
    return db.scalars(
        select(Connection).where(
            Connection.provider == PROVIDER, Connection.account == str(athlete_id)
        )
    ).first()


def start_connect(
    db: DbSession, runner_id: int, settings: Settings, session: requests.Session, now: datetime
) -> Consent:
    """Remember a fresh state and build the consent URL (Strava has no PKCE)."""
    Sealer.from_settings(settings)  # refuse early when grants could not be stored
    state, _pkce = remember_state(db, PROVIDER, runner_id, now)  # Strava ignores PKCE
    url = oauth_client(settings, session).authorization_url(
        redirect_uri=callback_url(settings), state=state, scope=f"{READ},{READ_ALL}"
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
    scope: str,
    now: datetime,
) -> Connected:
    """Check the state and the scopes kept, exchange the code, store the sealed grant."""
    take_state(db, state, PROVIDER, runner_id, now)
    oauth = oauth_client(settings, session)
    granted = oauth.granted_scopes(scope)
    if not granted & {READ, READ_ALL}:
        raise ConnectFailed(
            "Strava did not share your activities: connect again and leave "
            "“View data about your activities” ticked"
        )
    try:
        grant = oauth.exchange(code, now, scopes=granted)
    except IntegrationError as exc:
        raise ConnectFailed(f"Strava did not accept the sign-in ({exc}): start again") from None
    connection = _store(db, runner_id, grant, settings)
    return Connected(connection, None if READ_ALL in granted else PRIVATE_MISSING)


def _store(db: DbSession, runner_id: int, grant: StravaGrant, settings: Settings) -> Connection:
    other = connection_of_athlete(db, grant.athlete_id)
    if other is not None and other.runner_id != runner_id:
        raise ConnectFailed("this Strava account is connected to another runstrength runner")
    connection = strava_connection(db, runner_id) or Connection(
        runner_id=runner_id, provider=PROVIDER, last_error=""
    )
    connection.grant = Sealer.from_settings(settings).seal(grant.tokens)
    connection.scopes = " ".join(sorted(grant.tokens.scopes))
    connection.account = str(grant.athlete_id)
    connection.sync_token = None  # a new grant backfills from scratch
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
    *,
    force: bool = False,
) -> TokenSet:
    """A grant good for a while (``force``: refresh even so, after a 401); the refreshed one,
    with Strava's rotated refresh token, is flushed at once: commit before calling Strava.

    AuthExpired marks the connection for reconnection and re-raises.
    """
    client = oauth_client(settings, session)
    return fresh_tokens(
        db, connection, settings, now, service="Strava", margin=REFRESH_MARGIN, force=force,
        refresh=lambda grant: client.refresh(grant.refresh_token or "", now, scopes=grant.scopes),
    )  # fmt: skip


def disconnect(
    db: DbSession,
    runner: Runner,
    connection: Connection,
    settings: Settings,
    session: requests.Session,
    *,
    now: datetime,
) -> int:
    """Deauthorize at Strava (best effort), forget the grant and every activity only Strava
    gave; returns how many activities were deleted."""
    with suppress(IntegrationError, SealBroken):
        grant = fresh_grant(db, connection, settings, session, now)
        oauth_client(settings, session).deauthorize(grant.access_token)
    return forget(db, runner, connection)


def forget(db: DbSession, runner: Runner, connection: Connection) -> int:
    """Drop the connection and the activities that came only from Strava (Strava's API
    agreement: a deauthorized athlete's data goes); returns how many were deleted."""
    db.delete(connection)
    db.flush()
    return remove_all_from_source(db, runner, PROVIDER)
