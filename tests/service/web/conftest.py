"""Web fixtures: the app with the bundled 12-week sample imported for a Berlin runner."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask

from integrations.files.sources import Walk
from service.app import runtime
from service.usecases.import_files import import_sources
from service.usecases.runners import RunnerChange, default_runner, update_runner

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
