"""A cheap answer to "was anything committed since I last looked?", for per-process caches.

SQLite only. Every connection runstrength opens bumps a shared 8-byte stamp (a file mapped into
memory next to the database, ``<db>-changes``) right after each commit, in whatever process made
it; reading the stamp is a memory read: no query, no system call, no GIL hand-off. Commits made
by other programs are caught by a ``PRAGMA data_version`` safety net, at most ``NET_S`` late.
Elsewhere (PostgreSQL, in-memory SQLite, an unwritable directory) ``current()`` is None: there is
no cheap signal, so callers must ask the database.
"""

from __future__ import annotations

import mmap
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

NET_S = 1.0
SIZE = 8


class ChangeStamp:
    """A shared stamp that takes a fresh random value after every commit (values never repeat)."""

    def __init__(self, database: str | None, *, clock: Callable[[], float] = time.monotonic):
        self._database = Path(database).resolve() if database else None  # None: no stamp
        self._clock = clock
        self._lock = threading.Lock()
        self._map: mmap.mmap | None = None
        self._net: sqlite3.Connection | None = None
        self._net_pid = 0
        self._net_version: int | None = None
        self._net_due = 0.0

    def current(self) -> int | None:
        """The stamp now; equal stamps mean nothing was committed in between."""
        shared = self._shared()
        if shared is None:
            return None
        if self._clock() >= self._net_due:
            self._safety_net()
        return int.from_bytes(shared[:SIZE], "little")

    def bump(self) -> None:
        """Give the stamp a value it never had: called after every commit."""
        shared = self._shared()
        if shared is not None:
            shared[:SIZE] = os.urandom(SIZE)

    def connection_factory(self) -> type[sqlite3.Connection]:
        """A sqlite3 connection class whose every commit bumps this stamp."""
        stamp = self

        class StampingConnection(sqlite3.Connection):
            def commit(self) -> None:
                super().commit()
                stamp.bump()

        return StampingConnection

    def close(self) -> None:
        with self._lock:
            if self._net is not None and self._net_pid == os.getpid():
                self._net.close()
            self._net, self._net_version = None, None

    def _shared(self) -> mmap.mmap | None:
        if self._map is None and self._database is not None:
            with self._lock:
                if self._map is None:
                    self._map = _map_stamp_file(Path(f"{self._database}-changes"))
                    if self._map is None:
                        self._database = None  # cannot share a stamp here: callers query
        return self._map

    def _safety_net(self) -> None:
        """One thread at a time, at most every NET_S: bump if another program committed."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._net_due = self._clock() + NET_S
            version = self._data_version()
            if version is not None and version != self._net_version:
                if self._net_version is not None:
                    self.bump()
                self._net_version = version
        finally:
            self._lock.release()

    def _data_version(self) -> int | None:
        if self._database is None or not self._database.exists():
            return None
        try:
            if self._net is None or self._net_pid != os.getpid():  # never across fork
                uri = self._database.as_uri() + "?mode=ro"
                self._net = sqlite3.connect(uri, uri=True, check_same_thread=False)
                self._net_pid = os.getpid()
            (version,) = self._net.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            self._net = None
            return None
        return int(version)


def _map_stamp_file(path: Path) -> mmap.mmap | None:
    """The stamp file mapped shared (created on first use; it only ever grows to SIZE)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < SIZE:
            os.ftruncate(fd, SIZE)
            os.pwrite(fd, os.urandom(SIZE), 0)
        return mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    except OSError:
        return None
    finally:
        os.close(fd)
