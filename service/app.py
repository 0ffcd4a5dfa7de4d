"""create_app(overrides): the one place where settings, database and web parts are wired."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from service.db import Database
from service.keys import secret_key
from service.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every request, command and job works with: settings, database, the secret key."""

    settings: Settings
    db: Database
    secret: bytes


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the application from RUNSTRENGTH_* settings, with ``overrides`` winning (tests)."""
    from service import jobs
    from service.web import (
        accounts,
        api,
        api_feed,
        api_imports,
        api_runner,
        api_sessions,
        auth,
        benchfixture,
        connect,
        connections,
        feedcache,
        feeds,
        health,
        intervals,
        pages,
        requestlog,
        sessions,
        settings_pages,
        strava,
        subscribe,
        tokens,
        uploads,
    )

    settings = Settings.from_env(overrides=overrides)
    app = Flask(__name__)
    secret = secret_key(settings)
    app.config["SECRET_KEY"] = secret
    rt = Runtime(settings=settings, db=Database(settings), secret=secret)
    app.extensions["runstrength"] = rt
    feedcache.install(app, rt.db, settings)
    jobs.install(app, rt)  # publish to connected calendars after plan changes commit
    auth.install(app)
    blueprints = [health.bp, feeds.bp, pages.bp, accounts.bp, settings_pages.bp, sessions.bp]
    blueprints += [uploads.bp, subscribe.bp, connections.bp, connect.bp, tokens.bp, api.bp]
    blueprints += [api_sessions.bp, api_imports.bp, api_runner.bp, api_feed.bp, intervals.bp]
    blueprints += [strava.bp]
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    requestlog.install(app)
    benchfixture.register(app)  # only with RUNSTRENGTH_BENCH_ENDPOINT=1 (bench/feed_http.py)
    return app


def runtime(app: Flask | None = None) -> Runtime:
    """The Runtime of ``app`` (default: the current app)."""
    found = (app or current_app).extensions["runstrength"]
    assert isinstance(found, Runtime)
    return found
