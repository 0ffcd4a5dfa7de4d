"""Browser fixtures: the real app served on a loopback port, and Debian's Chromium to drive it."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from werkzeug.serving import make_server

from tests.browser.browsing import CHROMIUM, IN_CI, Camera, Site
from tests.fakes.google import FakeGoogle
from tests.fakes.intervals import FakeIntervals
from tests.fakes.strava import FakeStrava

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


@contextmanager
def served(tmp_path: Path, chromium: Browser, settings: dict[str, str]) -> Iterator[Site]:
    """A fresh multi-runner app (SQLite in tmp_path, ``settings`` on top) served in a thread."""
    from service import db as dbmod
    from service.app import create_app, runtime

    late = LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    overrides = {
        "data_dir": str(tmp_path / "data"),
        "database_url": f"sqlite:///{tmp_path / 'browser.db'}",
        "base_url": url,
        **settings,
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
def site(tmp_path: Path, chromium: Browser) -> Iterator[Site]:
    """A fresh multi-runner app (accounts on, SQLite in tmp_path) served in a thread."""
    with served(tmp_path, chromium, {}) as running:
        yield running


@pytest.fixture
def google_site(tmp_path: Path, chromium: Browser, fake_google: FakeGoogle) -> Iterator[Site]:
    """The same app pointed at the fake Google, with a key to seal grants; opt in by name."""
    key = Fernet.generate_key().decode("ascii")
    settings = {**fake_google.settings_overrides(), "encryption_keys": key}
    with served(tmp_path, chromium, settings) as running:
        # Only the served app's own callback is registered, as with a real Google client.
        fake_google.oauth.redirect_uris = {f"{running.url}/connect/google/callback"}
        yield running


@pytest.fixture
def strava_site(tmp_path: Path, chromium: Browser, fake_strava: FakeStrava) -> Iterator[Site]:
    """The app pointed at the fake Strava, queued jobs run at once; opt in by name."""
    from service.jobs import EXTENSION, AppJobs

    key = Fernet.generate_key().decode("ascii")
    settings = {**fake_strava.settings_overrides(), "encryption_keys": key}
    with served(tmp_path, chromium, settings) as running:
        app_jobs: AppJobs = running.app.extensions[EXTENSION]
        app_jobs.get().huey.immediate = True  # the backfill runs inside the callback request
        yield running


@pytest.fixture
def intervals_site(
    tmp_path: Path, chromium: Browser, fake_intervals: FakeIntervals
) -> Iterator[Site]:
    """The app pointed at the fake intervals.icu, with a key to seal API keys; opt in by name."""
    key = Fernet.generate_key().decode("ascii")
    settings = {**fake_intervals.settings_overrides(), "encryption_keys": key}
    with served(tmp_path, chromium, settings) as running:
        yield running


@pytest.fixture
def camera(site: Site, request: pytest.FixtureRequest) -> Camera:
    """Page checks and screenshots for this test, under test-output/screenshots/<test>/."""
    return Camera(site, request.node.name)


@pytest.fixture
def google_camera(google_site: Site, request: pytest.FixtureRequest) -> Camera:
    """Page checks and screenshots for a test on the app pointed at the fake Google."""
    return Camera(google_site, request.node.name)


@pytest.fixture
def strava_camera(strava_site: Site, request: pytest.FixtureRequest) -> Camera:
    """Page checks and screenshots for a test on the app pointed at the fake Strava."""
    return Camera(strava_site, request.node.name)


@pytest.fixture
def intervals_camera(intervals_site: Site, request: pytest.FixtureRequest) -> Camera:
    """Page checks and screenshots for a test on the app pointed at the fake intervals.icu."""
    return Camera(intervals_site, request.node.name)
