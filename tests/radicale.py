"""A real Radicale CalDAV server on a free loopback port, as an independent iCalendar checker."""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import sys
import uuid
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Radicale:
    port: int

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        # auth-type none accepts any login; logging in makes /runner/ the user's own principal.
        token = b64encode(b"runner:secret").decode()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                method, path, body, {"Authorization": f"Basic {token}", **(headers or {})}
            )
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def put_feed(self, feed: bytes) -> tuple[str, int]:
        path = f"/runner/{uuid.uuid4().hex}/"
        status, _ = self.request("PUT", path, feed, {"Content-Type": "text/calendar"})
        return path, status


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_radicale(folder: Path) -> Iterator[Radicale]:
    """Start Radicale with its storage in ``folder``; stop it when the caller is done."""
    port = free_port()
    log = (folder / "radicale.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", "--logging-level", "warning",
         "--server-hosts", f"127.0.0.1:{port}", "--auth-type", "none",
         "--storage-filesystem-folder", str(folder / "collections")],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_until_listening(process, port, folder / "radicale.log")
        yield Radicale(port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    for _ in range(600):  # at most ~30 s: 600 waits of 50 ms on the process itself
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)
        if process.returncode is not None:
            pytest.fail(f"radicale exited with {process.returncode}: {log.read_text()}")
    pytest.fail(f"radicale did not listen on port {port}: {log.read_text()}")
