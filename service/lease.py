"""Locks in the job queue's key-value store that lapse unless renewed.

A killed worker's lock frees itself after its lifetime, so nothing waits for a dead holder;
while work runs, ``Lease.kept()`` renews it from a thread.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LEASE_TTL_S = 60.0  # a dead holder's lease lapses after this; live holders renew it

log = logging.getLogger("runstrength.jobs")


class Lease:
    """A lock on one key of a Huey instance's store (put_if_empty/get/put/delete)."""

    def __init__(self, huey: Any, key: str, ttl_s: float = LEASE_TTL_S) -> None:
        self._huey, self.key, self._ttl = huey, key, ttl_s
        self._token = uuid.uuid4().hex

    def acquire(self) -> bool:
        if self._huey.put_if_empty(self.key, self._value()):
            return True
        current = self._huey.get(self.key, peek=True)
        if current is None:  # released in between
            return bool(self._huey.put_if_empty(self.key, self._value()))
        if current[0] > time.time():
            return False
        # Lapsed: of everyone who saw this value, only the first to claim it takes over.
        if not self._huey.put_if_empty(f"{self.key}.lapsed.{current[1]}", 1):
            return False
        self._huey.put(self.key, self._value())
        return True

    def release(self) -> None:
        if self._mine():
            self._huey.delete(self.key)

    def renew(self) -> None:
        if self._mine():
            self._huey.put(self.key, self._value())

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Renew the lease every third of its lifetime until the block ends, then free it."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self._ttl / 3):
                try:
                    self.renew()
                except Exception:
                    log.exception("could not renew %s", self.key)

        renewer = threading.Thread(target=renew, name=f"lease {self.key}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self.release()

    def _mine(self) -> bool:
        current = self._huey.get(self.key, peek=True)
        return current is not None and current[1] == self._token

    def _value(self) -> tuple[float, str]:
        return (time.time() + self._ttl, self._token)
