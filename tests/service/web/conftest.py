"""Web fixtures: the sample app for a Berlin runner, and its feed with a controllable clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from integrations.files.sources import Walk
from service.app import runtime
from service.models import Account
from service.preferences import load_toml, parse_preferences
from service.usecases.feeds import feed_links
from service.usecases.import_files import import_sources
from service.usecases.runners import (
    RunnerChange,
    default_runner,
    store_preferences,
    update_runner,
)

TODAY = date(2026, 11, 22)  # the sample's last day, a Sunday


@pytest.fixture
def single_app(overrides: dict[str, str]) -> Iterator[Flask]:
    """The application in single-runner mode (a personal install, the demo): no sign-in."""
    from service import db as dbmod
    from service.app import create_app

    application = create_app({**overrides, "single_runner": True})
    dbmod.upgrade(runtime(application).db.engine)
    yield application
    runtime(application).db.dispose()


@pytest.fixture
def sample_app(single_app: Flask, data_dir: Path) -> Flask:
    """Single-runner mode, the default runner (Europe/Berlin, km) holding the sample's runs."""
    app = single_app
    rt = runtime(app)
    with rt.db.session() as db:
        runner = update_runner(db, default_runner(db), RunnerChange(timezone="Europe/Berlin"))
        runner_id = runner.id
    report = import_sources(rt.db, runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    assert report.files, "the sample activities were not found"
    return app


@dataclass
class Clock:
    now: datetime = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class Feeds:
    client: FlaskClient
    app: Flask
    clock: Clock
    full: str
    busy: str

    def get(self, path: str | None = None, **headers: str) -> Any:
        return self.client.get(path or self.full, headers=headers)


@pytest.fixture
def feeds(app: Flask, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Feeds:
    clock = Clock()
    monkeypatch.setattr("service.web.feeds.utcnow", lambda: clock.now)
    rt = runtime(app)
    with rt.db.session() as db:
        runner = default_runner(db)
        prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
        store_preferences(db, runner, prefs)
        runner_id = runner.id
    import_sources(rt.db, runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    with rt.db.session() as db:
        links = feed_links(db, default_runner(db), rt.settings, rt.secret)
    return Feeds(
        app.test_client(), app, clock, urlsplit(links.https).path, urlsplit(links.busy_https).path
    )


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
PASSWORD = "correct horse battery"


def csrf(client: FlaskClient, page: str = "/signin") -> str:
    """The CSRF token a page hands this client's session (from its <meta name="csrf-token">)."""
    response = client.get(page)
    found = CSRF_META.search(response.get_data(as_text=True))
    assert found, f"no CSRF token on {page} ({response.status_code})"
    return found[1]


@dataclass
class Member:
    """A signed-up runner with a signed-in test client."""

    client: FlaskClient
    runner_id: int
    email: str

    def csrf(self, page: str = "/settings/password") -> str:
        return csrf(self.client, page)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """POST a form with this session's CSRF token, like the browser would."""
        fields = {"csrf_token": self.csrf(), **(data or {})}
        return self.client.post(path, data=fields, **kwargs)

    def api(self, method: str, path: str, json: Any = None) -> Any:
        """A JSON call with the session cookie and the X-CSRFToken header."""
        headers = {"X-CSRFToken": self.csrf()}
        return self.client.open(path, method=method, json=json, headers=headers)


def sign_up(app: Flask, email: str, timezone: str = "Europe/Berlin") -> Member:
    """Sign up through the real form and return the signed-in client."""
    client = app.test_client()
    token = csrf(client, "/signup")
    form = {"email": email, "password": PASSWORD, "confirm": PASSWORD, "timezone": timezone}
    response = client.post("/signup", data=form | {"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with runtime(app).db.session() as db:
        runner_id = db.scalars(
            select(Account.runner_id).where(Account.email == email.lower())
        ).one()
    return Member(client, runner_id, email)


@pytest.fixture
def member(app: Flask) -> Member:
    """A fresh signed-up runner (Europe/Berlin) with a signed-in client."""
    return sign_up(app, "runner@example.com")


@pytest.fixture
def other(app: Flask) -> Member:
    """A second runner, to prove that nobody sees anybody else's data."""
    return sign_up(app, "other@example.com")
