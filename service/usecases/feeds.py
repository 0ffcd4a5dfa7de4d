"""Private feed URLs: tokens derived from the secret key, stored only as hashes, rotatable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import quote

from sqlalchemy import Connection, Executable, and_, bindparam, delete, select
from sqlalchemy.orm import Session as DbSession

from service.models import Feed, FeedRender, Runner, utcnow
from service.settings import Settings

GOOGLE_ADD_BY_URL = "https://calendar.google.com/calendar/r?cid="


@dataclass(frozen=True, slots=True)
class FeedLinks:
    """Every way to subscribe to a runner's feed."""

    https: str
    webcal: str
    google: str
    busy_https: str
    busy_webcal: str


def derive_token(secret: bytes, runner_id: int, nonce: str) -> str:
    """160 bits of HMAC as 32 lowercase base32 characters: unguessable, URL-safe, recomputable."""
    digest = hmac.new(secret, f"feed:{runner_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode("ascii").lower()


def token_hash(token: str) -> str:
    """What is stored and looked up: the token itself never reaches the database."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def ensure_feed(db: DbSession, runner: Runner, secret: bytes) -> tuple[Feed, str]:
    """The runner's feed row and its current token, creating the feed on first use."""
    feed = db.scalars(select(Feed).where(Feed.runner_id == runner.id)).first()
    if feed is None:
        nonce = secrets.token_hex(16)
        token = derive_token(secret, runner.id, nonce)
        feed = Feed(runner_id=runner.id, nonce=nonce, token_hash=token_hash(token))
        db.add(feed)
        db.flush()
        return feed, token
    token = derive_token(secret, runner.id, feed.nonce)
    if feed.token_hash != token_hash(token):  # the secret key changed: old URLs are dead anyway
        feed.token_hash = token_hash(token)
    return feed, token


def feed_links(db: DbSession, runner: Runner, settings: Settings, secret: bytes) -> FeedLinks:
    """The subscribe links of the runner's feed (created on first use)."""
    _feed, token = ensure_feed(db, runner, secret)
    base = settings.base_url.rstrip("/")
    full, busy = f"{base}/feeds/{token}.ics", f"{base}/feeds/{token}-busy.ics"
    webcal = _webcal(full)
    return FeedLinks(
        https=full,
        webcal=webcal,
        google=GOOGLE_ADD_BY_URL + quote(webcal, safe=""),
        busy_https=busy,
        busy_webcal=_webcal(busy),
    )


def _webcal(url: str) -> str:
    return "webcal://" + url.split("://", 1)[1]


def rotate_feed(db: DbSession, runner: Runner, secret: bytes) -> str:
    """A new token; the old URL stops working at once. Returns the new token."""
    feed, _old = ensure_feed(db, runner, secret)
    feed.nonce = secrets.token_hex(16)
    token = derive_token(secret, runner.id, feed.nonce)
    feed.token_hash, feed.rotated_at = token_hash(token), utcnow()
    db.execute(delete(FeedRender).where(FeedRender.feed_id == feed.id))
    db.flush()
    return token


def find_feed(db: DbSession, token: str) -> tuple[Feed, Runner] | None:
    """The feed and runner a URL token belongs to; None for anything unknown."""
    row = db.execute(
        select(Feed, Runner)
        .join(Runner, Runner.id == Feed.runner_id)
        .where(Feed.token_hash == token_hash(token))
    ).first()
    return None if row is None else (row[0], row[1])


@dataclass(frozen=True, slots=True)
class FeedState:
    """What a poll needs to decide between 304, a cached 200 and a render: no bodies."""

    feed_id: int
    plan_changed_at: datetime
    timezone: str
    cache_key: str | None
    etag: str | None
    last_modified: datetime | None


def peek_feed(connection: Connection, hashed: str, variant: str) -> FeedState | None:
    """One indexed, column-only query per poll by token hash (Core, statement built once)."""
    row = connection.execute(_peek_statement(), {"hashed": hashed, "variant": variant}).first()
    return None if row is None else FeedState(*row)


@cache
def _peek_statement() -> Executable:
    return (
        select(
            Feed.id,
            Runner.plan_changed_at,
            Runner.timezone,
            FeedRender.cache_key,
            FeedRender.etag,
            FeedRender.last_modified,
        )
        .join(Runner, Runner.id == Feed.runner_id)
        .outerjoin(
            FeedRender,
            and_(FeedRender.feed_id == Feed.id, FeedRender.variant == bindparam("variant")),
        )
        .where(Feed.token_hash == bindparam("hashed"))
    )
