"""The session factory against loopback servers: timeouts, which requests are retried, headers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from integrations.http import DEFAULT_TIMEOUT, new_session, timeout_of


class _Scripted(BaseHTTPRequestHandler):
    """Answers each request with the next status of the server's script (then 200)."""

    server: _ScriptedServer

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.headers.get("User-Agent", "")))
        status, headers = self.server.script.pop(0) if self.server.script else (200, {})
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(status)
        for name, value in {**headers, "Content-Length": "2"}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _ScriptedServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Scripted)
        self.script: list[tuple[int, dict[str, str]]] = []
        self.seen: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture
def scripted() -> Iterator[_ScriptedServer]:
    server = _ScriptedServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


class _Listener:
    """A loopback socket that takes connections and either hangs up or never answers."""

    def __init__(self, *, hang_up: bool) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.connections = 0
        self.held: list[socket.socket] = []
        self.hang_up = hang_up
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.recv(65536)
            if self.hang_up:
                conn.close()
            else:
                self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[_Listener]:
    listener = _Listener(hang_up=False)
    yield listener
    listener.close()


@pytest.fixture
def hanging_up() -> Iterator[_Listener]:
    listener = _Listener(hang_up=True)
    yield listener
    listener.close()


def test_a_server_that_never_answers_fails_the_call_with_the_sessions_read_timeout(
    silent: _Listener,
) -> None:
    session = new_session(timeout=(2, 0.2), retries=0)
    with pytest.raises(requests.ReadTimeout, match=r"read timeout=0\.2"):
        session.get(silent.url)


def test_an_explicit_timeout_still_wins_over_the_default(silent: _Listener) -> None:
    session = new_session(timeout=(2, 30), retries=0)
    with pytest.raises(requests.ReadTimeout, match=r"read timeout=0\.1"):
        session.get(silent.url, timeout=0.1)


def test_a_session_made_elsewhere_gets_the_default_timeout_from_timeout_of() -> None:
    assert timeout_of(new_session(timeout=(1, 2))) == (1, 2)
    assert timeout_of(requests.Session()) == DEFAULT_TIMEOUT


def test_idempotent_requests_are_retried_after_a_dropped_connection(
    hanging_up: _Listener,
) -> None:
    session = new_session(retries=1)
    with pytest.raises(requests.ConnectionError):
        session.get(hanging_up.url)
    assert hanging_up.connections == 2


def test_a_post_is_never_retried_after_a_dropped_connection(hanging_up: _Listener) -> None:
    session = new_session(retries=2)
    with pytest.raises(requests.ConnectionError):
        session.post(hanging_up.url, data={"a": "b"})
    assert hanging_up.connections == 1


def test_a_get_answered_503_is_retried_without_waiting_out_retry_after(
    scripted: _ScriptedServer,
) -> None:
    scripted.script = [(503, {"Retry-After": "3600"})]
    response = new_session(retries=2).get(scripted.url)
    assert response.status_code == 200
    assert [method for method, _ in scripted.seen] == ["GET", "GET"]


def test_a_post_answered_503_comes_straight_back(scripted: _ScriptedServer) -> None:
    scripted.script = [(503, {})]
    response = new_session(retries=2).post(scripted.url, data=b"x")
    assert response.status_code == 503
    assert len(scripted.seen) == 1


def test_a_429_comes_straight_back_to_the_caller_even_for_a_get(
    scripted: _ScriptedServer,
) -> None:
    scripted.script = [(429, {"Retry-After": "3600"})]
    response = new_session(retries=2).get(scripted.url)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3600"
    assert len(scripted.seen) == 1


def test_retries_give_up_and_return_the_last_answer(scripted: _ScriptedServer) -> None:
    scripted.script = [(502, {}), (504, {}), (503, {})]
    response = new_session(retries=2).put(scripted.url, data=b"x")
    assert response.status_code == 503
    assert len(scripted.seen) == 3


def test_every_request_carries_our_user_agent(scripted: _ScriptedServer) -> None:
    new_session(user_agent="runstrength/test").get(scripted.url)
    assert scripted.seen == [("GET", "runstrength/test")]
