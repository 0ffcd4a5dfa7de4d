"""Per-process memory for feed polls: looked-up feed states and rendered bytes.

A poll of an unchanged feed then costs one ``PRAGMA data_version`` (SQLite) instead of a query;
any commit anywhere (a rotation, a plan change, another worker's render) makes every remembered
state stale at once, so "rotation kills the old URL at once" holds across workers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

from flask import Flask, current_app

from service.db import Database
from service.usecases.feeds import FeedState, peek_feed, token_hash

K = TypeVar("K")
V = TypeVar("V")
_EXTENSION_KEY = "runstrength.feedcache"
STATES = 4096  # ~200 bytes each
BODIES = 256  # ~256 feeds of ~25 kB plain + gzip


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


class FeedCache:
    """Feed states valid while the database's change stamp holds, and rendered bytes by ETag."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._states: Recent[tuple[str, str], tuple[object, FeedState]] = Recent(STATES)
        self.bodies: Recent[str, tuple[bytes, bytes]] = Recent(BODIES)

    def state(self, token: str, variant: str) -> FeedState | None:
        """What a poll needs; None for an unknown token (never remembered: no memory for junk)."""
        stamp = self._db.changes.current()  # read before the query: a commit in between -> stale
        key = (token_hash(token), variant)
        if stamp is not None:
            hit = self._states.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
        with self._db.engine.connect() as connection:
            found = peek_feed(connection, key[0], variant)
        if found is not None and stamp is not None:
            self._states.put(key, (stamp, found))
        return found


def install(app: Flask, db: Database) -> None:
    """Give ``app`` its own feed cache (one per app: tests build many apps per process)."""
    app.extensions[_EXTENSION_KEY] = FeedCache(db)


def feed_cache() -> FeedCache:
    """The current app's feed cache."""
    found = current_app.extensions[_EXTENSION_KEY]
    assert isinstance(found, FeedCache)
    return found
