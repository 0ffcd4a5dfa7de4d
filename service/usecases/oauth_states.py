"""OAuth authorisations in flight: a random state and a PKCE verifier kept across the redirect."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session as DbSession

from integrations.google.oauth import Pkce, new_pkce
from service.models import OAuthState

STATE_TTL = timedelta(minutes=15)  # an authorisation left longer than this is refused


class ConnectFailed(ValueError):
    """Finishing a connection or sign-in failed; the message says why in a runner's words."""


def remember_state(
    db: DbSession, provider: str, runner_id: int | None, now: datetime
) -> tuple[str, Pkce]:
    """A fresh state and PKCE pair, stored for ``take_state``; stale ones are swept out."""
    db.execute(delete(OAuthState).where(OAuthState.created_at < now - STATE_TTL))
    pkce, state = new_pkce(), secrets.token_urlsafe(32)
    db.add(
        OAuthState(
            state=state,
            runner_id=runner_id,
            provider=provider,
            code_verifier=pkce.verifier,
            created_at=now,
        )
    )
    return state, pkce


def take_state(
    db: DbSession, state: str, provider: str, runner_id: int | None, now: datetime
) -> OAuthState:
    """The stored authorisation for a returning ``state``, used up; ConnectFailed otherwise."""
    pending = db.get(OAuthState, state)
    if pending is None or pending.runner_id != runner_id or pending.provider != provider:
        raise ConnectFailed("this sign-in link is unknown or was already used: start again")
    db.delete(pending)
    db.flush()
    if now - pending.created_at > STATE_TTL:
        raise ConnectFailed("the sign-in took too long: start again")
    return pending
