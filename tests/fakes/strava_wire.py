"""Plumbing the fake Strava and fake intervals.icu share: a settable clock, the request log,
injected faults and held calls, and WSGI glue around `tests.fakes.wire.Call`/`Reply`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes.google import Hold, Matcher
from tests.fakes.wire import Call, Reply, json_reply

__all__ = [
    "Clock",
    "Fault",
    "Hold",
    "Logged",
    "Recorder",
    "StravaError",
    "bearer",
    "call_of",
    "respond",
]


class StravaError(Exception):
    """An error in Strava's JSON shape: {"message", "errors": [{"resource", "field", "code"}]}."""

    def __init__(
        self, status: int, message: str, resource: str = "", field: str = "", code: str = ""
    ) -> None:
        super().__init__(f"{status} {message}: {resource}.{field} {code}")
        self.status = status
        self.message = message
        self.errors = [{"resource": resource, "field": field, "code": code}] if resource else []

    def reply(self, headers: dict[str, str] | None = None) -> Reply:
        return json_reply(self.status, {"message": self.message, "errors": self.errors}, headers)


class Clock:
    """Wall-clock time plus an offset, or a frozen instant once `set` (then only `advance` moves
    it), so rate-limit windows and token expiry are testable without sleeping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta()
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset

    def epoch(self) -> int:
        return int(self.now().timestamp())

    def set(self, instant: datetime) -> None:
        """Freeze the clock at `instant` (aware)."""
        if instant.tzinfo is None:
            raise ValueError("the fake clock needs an aware datetime")
        with self._lock:
            self._frozen = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta


@dataclass
class Logged:
    """One request a fake received; `token` is the bearer token or basic-auth password used."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    token: str | None
    status: int | None = None

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    """Answer the next `times` matching calls with `reply` instead of doing them."""

    matcher: Matcher
    reply: Callable[[], Reply]
    times: int = 1


class Recorder:
    """Thread-safe request log, pending faults and holds for one fake server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._log: list[Logged] = []
        self._faults: list[Fault] = []
        self._holds: list[Hold] = []
        self._every_hold: list[Hold] = []

    def enter(self, call: Call, token: str | None) -> tuple[Logged, Fault | None]:
        """Log the call, wait out a hold on it, and return the fault it triggers, if any."""
        entry = Logged(call.method, call.path, call.query, call.body, token)
        with self._lock:
            self._log.append(entry)
            hold = self._take_hold(call)
            fault = self._take_fault(call)
        if hold is not None:
            hold.reached.set()
            hold.released.wait(60)
        return entry, fault

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_hold(self, hold: Hold) -> Hold:
        with self._lock:
            self._holds.append(hold)
            self._every_hold.append(hold)
        return hold

    def release_all(self) -> None:
        with self._lock:
            for hold in self._every_hold:
                hold.release()

    def requests(self, method: str | None = None, path: str | None = None) -> list[Logged]:
        matcher = Matcher(method, path)
        with self._lock:
            return [e for e in self._log if matcher.matches(Call(e.method, e.path, {}, {}))]

    def clear(self) -> None:
        with self._lock:
            self._log.clear()

    def _take_hold(self, call: Call) -> Hold | None:
        for hold in self._holds:
            if hold.matcher.matches(call):
                if hold.skip > 0:
                    hold.skip -= 1
                    return None
                self._holds.remove(hold)
                return hold
        return None

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self._faults:
            if fault.matcher.matches(call):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


def call_of(environ: dict[str, Any]) -> Call:
    request = Request(environ)
    return Call(
        method=request.method, path=request.path,
        query={k: request.args.getlist(k) for k in request.args},
        headers={k.lower(): v for k, v in request.headers.items()},
        body=request.get_data(),
    )  # fmt: skip


def bearer(call: Call) -> str | None:
    kind, _, token = call.headers.get("authorization", "").partition(" ")
    return token.strip() if kind.lower() == "bearer" else None


def respond(reply: Reply, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    return Response(reply.body, reply.status, reply.headers)(environ, start_response)
