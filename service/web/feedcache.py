"""Per-process memory for feed polls: looked-up feed states, their validators, rendered bytes.

A poll of an unchanged feed then costs one ``PRAGMA data_version`` (SQLite) instead of a query;
any commit anywhere (a rotation, a plan change, another worker's render) makes every remembered
state stale at once, so "rotation kills the old URL at once" holds across workers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import format_datetime
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from service.db import Database
from service.settings import Settings
from service.usecases.feeds import FeedState, peek_feed, token_hash
from service.usecases.publish_plan import cache_key

K = TypeVar("K")
V = TypeVar("V")
_EXTENSION_KEY = "runstrength.feedcache"
STATES = 4096  # ~300 bytes each
BODIES = 256  # ~256 feeds of ~25 kB plain + gzip


@dataclass(frozen=True, slots=True)
class Validators:
    """What a response carries about one render: strong ETags and Last-Modified as HTTP date."""

    etag: str
    etag_gz: str
    last_modified: datetime
    last_modified_http: str

    @classmethod
    def of(cls, etag: str, last_modified: datetime) -> Validators:
        http_date = format_datetime(last_modified, usegmt=True)
        return cls(etag, etag[:-1] + '-gz"', last_modified, http_date)


class Recent(Generic[K, V]):
    """A small thread-safe LRU map."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class _Entry:
    """A looked-up state under the stamp it was read with, and the day its render was judged."""

    __slots__ = ("judged", "stamp", "state")

    def __init__(self, stamp: int | None, state: FeedState) -> None:
        self.stamp, self.state = stamp, state
        self.judged: tuple[date, Validators | None] | None = None  # replaced whole: thread-safe


class FeedCache:
    """Feed states valid while the database's change stamp holds, and rendered bytes by ETag."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self._db, self._settings = db, settings
        self._states: Recent[tuple[str, str], _Entry] = Recent(STATES)
        self.bodies: Recent[str, tuple[bytes, bytes]] = Recent(BODIES)

    def lookup(
        self, token: str, variant: str, now: datetime
    ) -> tuple[FeedState, Validators | None] | None:
        """None for an unknown token; else the state and, if still today's, its stored render."""
        entry = self._entry(token, variant)
        if entry is None:
            return None
        today = now.astimezone(ZoneInfo(entry.state.timezone)).date()
        judged = entry.judged
        if judged is None or judged[0] != today:
            judged = today, self._stored(entry.state, variant, today)
            entry.judged = judged
        return entry.state, judged[1]

    def _entry(self, token: str, variant: str) -> _Entry | None:
        stamp = self._db.changes.current()  # read before the query: a commit in between -> stale
        key = (token, variant)
        if stamp is not None:
            hit = self._states.get(key)
            if hit is not None and hit.stamp == stamp:
                return hit
        # One statement, so autocommit: no BEGIN/ROLLBACK round trips around it (PostgreSQL).
        with self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            found = peek_feed(db, token_hash(token), variant)
        if found is None:
            return None  # never remembered: no memory for junk tokens
        entry = _Entry(stamp, found)
        if stamp is not None:
            self._states.put(key, entry)
        return entry

    def _stored(self, state: FeedState, variant: str, today: date) -> Validators | None:
        if state.cache_key is None or not state.etag or state.last_modified is None:
            return None
        if state.cache_key != cache_key(state.plan_changed_at, self._settings, variant, today):
            return None
        return Validators.of(state.etag, state.last_modified)


def install(app: Flask, db: Database, settings: Settings) -> None:
    """Give ``app`` its own feed cache (one per app: tests build many apps per process)."""
    app.extensions[_EXTENSION_KEY] = FeedCache(db, settings)


def feed_cache() -> FeedCache:
    """The current app's feed cache."""
    found = current_app.extensions[_EXTENSION_KEY]
    assert isinstance(found, FeedCache)
    return found
