"""create_app(overrides): the one place where settings, database and web parts are wired."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from service.db import Database
from service.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every request, command and job works with: the settings and the database."""

    settings: Settings
    db: Database


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from RUNSTRENGTH_* settings, with ``overrides`` winning (tests)."""
    settings = Settings.from_env(overrides=overrides)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    app.extensions["runstrength"] = Runtime(settings=settings, db=Database(settings))
    return app


def runtime(app: Flask | None = None) -> Runtime:
    """The Runtime of ``app`` (default: the current app)."""
    found = (app or current_app).extensions["runstrength"]
    assert isinstance(found, Runtime)
    return found
