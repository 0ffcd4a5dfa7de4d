"""Connect intervals.icu with OAuth when this server has an app registered there: remember a
state, send the runner to the consent page, and on the way back exchange the code and keep the
token sealed in the runner's one intervals.icu connection (replacing an API key, if any)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import requests
from sqlalchemy.orm import Session as DbSession

from integrations.errors import AuthExpired, IntegrationError
from integrations.intervals_icu.oauth import (
    ACTIVITY_READ,
    CALENDAR_READ,
    CALENDAR_WRITE,
    IntervalsGrant,
    allows,
    authorization_url,
    exchange_code,
)
from integrations.types import TokenSet
from service.crypto import Sealer
from service.db import Database
from service.models import Connection
from service.settings import Settings
from service.usecases.grants import CONNECTED
from service.usecases.intervals_connection import PROVIDER, intervals_connection
from service.usecases.oauth_states import ConnectFailed, remember_state, take_state

SCOPE = f"{ACTIVITY_READ},{CALENDAR_WRITE}"  # WRITE lets us read planned workouts too
CALLBACK_PATH = "/connect/intervals/callback"
NO_ACTIVITIES = (
    "intervals.icu did not share your activities: connect again and leave activity access "
    f"({ACTIVITY_READ}) ticked"
)


@dataclass(frozen=True, slots=True)
class Connected:
    """A finished OAuth connection: whom it reaches, and what the runner left unticked."""

    account: str
    missing: str | None


def oauth_offered(settings: Settings) -> bool:
    """Whether this server has an intervals.icu app to connect through."""
    return bool(settings.intervals_client_id and settings.intervals_client_secret)


def callback_url(settings: Settings) -> str:
    """The redirect URI to register with the intervals.icu app."""
    return settings.base_url.rstrip("/") + CALLBACK_PATH


def start_connect(db: DbSession, runner_id: int, settings: Settings, now: datetime) -> str:
    """Remember a fresh state and return the consent page's URL."""
    Sealer.from_settings(settings)  # refuse early when the token could not be stored
    state, _pkce = remember_state(db, PROVIDER, runner_id, now)  # intervals.icu has no PKCE
    return authorization_url(
        settings.intervals_api_root,
        settings.intervals_client_id,
        redirect_uri=callback_url(settings),
        scope=SCOPE,
        state=state,
    )


def finish_connect(
    database: Database,
    runner_id: int,
    settings: Settings,
    session: requests.Session,
    *,
    state: str,
    code: str,
    now: datetime,
) -> Connected:
    """Use up the state, exchange the code (outside any transaction), check the scopes kept,
    and store the token sealed; ConnectFailed says why nothing was connected."""
    with database.session() as db:
        take_state(db, state, PROVIDER, runner_id, now)
    sealer = Sealer.from_settings(settings)
    try:
        grant = exchange_code(
            settings.intervals_api_root,
            settings.intervals_client_id,
            settings.intervals_client_secret,
            code,
            session,
        )
    except AuthExpired:
        raise ConnectFailed("intervals.icu did not accept the sign-in: start again") from None
    except IntegrationError as exc:
        raise ConnectFailed(f"intervals.icu could not be asked ({exc}): try again later") from None
    if not allows(grant.scopes, ACTIVITY_READ):
        raise ConnectFailed(NO_ACTIVITIES)
    with database.session() as db:
        connection = _store(db, runner_id, grant, sealer)
        return Connected(connection.account, calendar_missing(grant.scopes))


def calendar_missing(scopes: frozenset[str]) -> str | None:
    """What the runner loses by the calendar access they left unticked, or None."""
    if allows(scopes, CALENDAR_WRITE):
        return None
    if allows(scopes, CALENDAR_READ):
        return "Calendar writing was left unticked, so sessions cannot be sent to intervals.icu"
    return (
        "Calendar access was left unticked, so your planned workouts are not read and "
        "sessions cannot be sent to intervals.icu; connect again with it ticked to have both"
    )


def _store(db: DbSession, runner_id: int, grant: IntervalsGrant, sealer: Sealer) -> Connection:
    """The runner's one intervals.icu connection, now holding this token (a new backfill)."""
    connection = intervals_connection(db, runner_id) or Connection(
        runner_id=runner_id, provider=PROVIDER, last_error=""
    )
    connection.grant = sealer.seal(TokenSet(grant.access_token, None, None, grant.scopes))
    connection.scopes = " ".join(sorted(grant.scopes))  # never empty: ACTIVITY:READ is in it
    connection.account = grant.athlete_name or grant.athlete_id
    connection.sync_token = None  # the token may reach another athlete than before
    connection.state, connection.last_error = CONNECTED, ""
    db.add(connection)
    db.flush()
    return connection
