"""Browser fixtures: the real app served on a loopback port, and Debian's Chromium to drive it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.browser.browsing import CHROMIUM, IN_CI, Camera, Site

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LateApp:
    """A WSGI app whose target is set once the port is known (the app's base URL needs it)."""

    def __init__(self) -> None:
        self.app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        assert self.app is not None, "the app is not set yet"
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium for the whole run; skipped where it is absent (fails in CI)."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing in CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def site(tmp_path: Path, chromium: Browser) -> Iterator[Site]:
    """A fresh multi-runner app (accounts on, SQLite in tmp_path) served in a thread."""
    from service import db as dbmod
    from service.app import create_app, runtime

    late = LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    overrides = {
        "data_dir": str(tmp_path / "data"),
        "database_url": f"sqlite:///{tmp_path / 'browser.db'}",
        "base_url": url,
    }
    late.app = create_app(overrides)
    dbmod.upgrade(runtime(late.app).db.engine)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url, late.app, chromium, tmp_path)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        runtime(late.app).db.dispose()


@pytest.fixture
def camera(site: Site, request: pytest.FixtureRequest) -> Camera:
    """Page checks and screenshots for this test, under test-output/screenshots/<test>/."""
    return Camera(site, request.node.name)
