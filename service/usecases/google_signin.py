"""Sign in with Google: OpenID Connect with state and PKCE; the verified email names the account."""

from __future__ import annotations

from datetime import datetime

import requests
from sqlalchemy.orm import Session as DbSession

from integrations.errors import IntegrationError
from integrations.google.oauth import SIGN_IN_SCOPES
from service.settings import Settings
from service.usecases.accounts import SignedIn, sign_in_verified
from service.usecases.google_connection import Consent, oauth_client
from service.usecases.oauth_states import ConnectFailed, remember_state, take_state

PROVIDER = "google_signin"


def sign_in_callback_url(settings: Settings) -> str:
    """Where Google sends the runner back after signing in (registered with the Google app)."""
    return settings.base_url.rstrip("/") + "/signin/google/callback"


def start_sign_in(
    db: DbSession, settings: Settings, session: requests.Session, now: datetime
) -> Consent:
    """Remember a fresh state and PKCE verifier and build Google's sign-in URL."""
    state, pkce = remember_state(db, PROVIDER, None, now)
    url = oauth_client(settings, session).authorization_url(
        redirect_uri=sign_in_callback_url(settings),
        state=state,
        code_challenge=pkce.challenge,
        scopes=SIGN_IN_SCOPES,
        offline=False,  # only who they are: no refresh token, no forced consent
    )
    return Consent(url, state)


def finish_sign_in(
    db: DbSession,
    settings: Settings,
    session: requests.Session,
    *,
    state: str,
    code: str,
    now: datetime,
    timezone: str | None = None,
) -> tuple[SignedIn, bool]:
    """The account Google vouched for (created when new); True when it was just created."""
    pending = take_state(db, state, PROVIDER, None, now)
    try:
        who = oauth_client(settings, session).identify(
            code=code,
            redirect_uri=sign_in_callback_url(settings),
            code_verifier=pending.code_verifier,
            now=now,
        )
    except IntegrationError as exc:
        raise ConnectFailed(f"Google did not confirm who you are ({exc})") from None
    return sign_in_verified(db, who.email, timezone)
