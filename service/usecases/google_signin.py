"""Sign in with Google: OpenID Connect with state and PKCE; the verified email names the account."""

from __future__ import annotations

import secrets
from datetime import datetime

import requests
from sqlalchemy import delete
from sqlalchemy.orm import Session as DbSession

from integrations.errors import IntegrationError
from integrations.google.oauth import SIGN_IN_SCOPES, new_pkce
from service.models import OAuthState
from service.settings import Settings
from service.usecases.accounts import SignedIn, sign_in_verified
from service.usecases.google_connection import STATE_TTL, ConnectFailed, Consent, oauth_client

PROVIDER = "google_signin"


def sign_in_callback_url(settings: Settings) -> str:
    """Where Google sends the runner back after signing in (registered with the Google app)."""
    return settings.base_url.rstrip("/") + "/signin/google/callback"


def start_sign_in(
    db: DbSession, settings: Settings, session: requests.Session, now: datetime
) -> Consent:
    """Remember a fresh state and PKCE verifier and build Google's sign-in URL."""
    db.execute(delete(OAuthState).where(OAuthState.created_at < now - STATE_TTL))
    pkce, state = new_pkce(), secrets.token_urlsafe(32)
    db.add(OAuthState(state=state, runner_id=None, provider=PROVIDER,
                      code_verifier=pkce.verifier, created_at=now))  # fmt: skip
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
    pending = db.get(OAuthState, state)
    if pending is None or pending.provider != PROVIDER:
        raise ConnectFailed("this sign-in link is unknown or was already used: start again")
    db.delete(pending)
    db.flush()
    if now - pending.created_at > STATE_TTL:
        raise ConnectFailed("the Google sign-in took too long: start again")
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
