"""Web fixtures: the sample app for a Berlin runner, and its feed with a controllable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from integrations.files.sources import Walk
from service.app import runtime
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
def sample_app(app: Flask, data_dir: Path) -> Flask:
    """The migrated app whose default runner (Europe/Berlin, km) holds the sample's activities."""
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
