"""Personal API tokens: created once (shown once), stored as a hash, revocable at any time."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.models import ApiToken
from service.usecases.runners import InvalidValue

PREFIX = "rs_"
MAX_TOKENS = 20
MAX_NAME = 100
MAX_ID = 2**63 - 1
# Recording every use would turn each API read into a write; once a minute is enough to tell.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What the runner sees of a token after creation: never the token itself."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def hash_token(token: str) -> str:
    """What is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Session, runner_id: int, name: str) -> tuple[TokenInfo, str]:
    """A new token for the runner; the plain token is returned here and nowhere else."""
    label = " ".join(name.split())
    if not label or len(label) > MAX_NAME:
        raise InvalidValue(f"give the token a name of 1 to {MAX_NAME} characters")
    count = len(db.scalars(select(ApiToken.id).where(ApiToken.runner_id == runner_id)).all())
    if count >= MAX_TOKENS:
        raise InvalidValue(f"you already have {MAX_TOKENS} tokens: revoke one first")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(runner_id=runner_id, name=label, token_hash=hash_token(token))
    db.add(row)
    db.flush()
    return _info(row), token


def list_tokens(db: Session, runner_id: int) -> list[TokenInfo]:
    """The runner's tokens, newest first."""
    rows = db.scalars(
        select(ApiToken)
        .where(ApiToken.runner_id == runner_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return [_info(row) for row in rows]


def revoke_token(db: Session, runner_id: int, token_id: int) -> bool:
    """Delete one of the runner's tokens; False when the runner has no such token."""
    if not 0 < token_id <= MAX_ID:  # larger numbers overflow the database's integers
        return False
    gone = db.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.runner_id == runner_id)
    )
    return bool(getattr(gone, "rowcount", 0))


def runner_for_token(db: Session, token: str, now: datetime) -> int | None:
    """The runner a presented token belongs to, or None; notes when it was last used."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = db.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        row.last_used_at = now
    return row.runner_id


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.created_at, row.last_used_at)
