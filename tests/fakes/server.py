"""Serve any WSGI app on a free loopback port in a background thread."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """Keeps the per-request access log out of the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 with a port the OS picked; start, then stop."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not started"
        return f"http://127.0.0.1:{self._server.port}"

    def start(self) -> LoopbackServer:
        self._server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        # serve_forever looks for a shutdown once per poll interval: keep stopping quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name=f"fake-{self._server.port}",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
