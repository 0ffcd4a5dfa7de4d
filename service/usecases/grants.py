"""What every connection's sealed grant shares: its two states, marking it for reconnection,
and keeping an OAuth grant fresh (a refreshed one is flushed at once: commit before use)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session as DbSession

from integrations.errors import AuthExpired
from integrations.types import TokenSet
from service.crypto import Sealer
from service.models import Connection
from service.settings import Settings

CONNECTED, NEEDS_RECONNECT = "connected", "needs_reconnect"


def mark_needs_reconnect(db: DbSession, connection: Connection, reason: str) -> None:
    """Stop using the grant until the runner connects again, and say why."""
    connection.state, connection.last_error = NEEDS_RECONNECT, reason
    db.flush()


def fresh_tokens(
    db: DbSession,
    connection: Connection,
    settings: Settings,
    now: datetime,
    *,
    service: str,
    margin: timedelta,
    refresh: Callable[[TokenSet], TokenSet],
    force: bool = False,
) -> TokenSet:
    """The stored grant while it is good for ``margin`` more (unless ``force``), else the one
    ``refresh`` makes of it, sealed and flushed. AuthExpired marks the connection first."""
    sealer = Sealer.from_settings(settings)
    if connection.grant is None or connection.state != CONNECTED:
        raise AuthExpired(f"the {service} connection needs to be made again")
    grant = sealer.open(connection.grant)
    if not force and grant.expires_at is not None and grant.expires_at - margin > now:
        return grant
    if not grant.refresh_token:
        mark_needs_reconnect(db, connection, f"{service} gave no refresh token: connect again")
        raise AuthExpired("no refresh token")
    try:
        fresh = refresh(grant)
    except AuthExpired as exc:
        mark_needs_reconnect(db, connection, f"{service} refused the stored grant ({exc})")
        raise
    connection.grant = sealer.seal(fresh)
    db.flush()
    return fresh
