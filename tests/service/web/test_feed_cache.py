"""The per-process feed cache: cheap polls, and never a stale answer after a commit elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event

from service import db as dbmod
from service.app import create_app, runtime
from service.changestamp import ChangeStamp
from service.planning.model import OverrideAction
from service.usecases.feeds import rotate_feed
from service.usecases.overrides import apply_override
from service.usecases.runners import default_runner
from tests.service.web.conftest import Feeds

TODAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).date()


class Statements:
    """Counts the SQL statements an engine sends while it is attached."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def detach(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


@pytest.fixture(autouse=True)
def frozen_safety_net(feeds: Feeds) -> None:
    """Stop the once-a-second PRAGMA check so that a slow run cannot add a lookup to a count.

    The replacement reads the same shared stamp file, which every commit still bumps.
    """
    db = runtime(feeds.app).db
    database = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    db.changes = ChangeStamp(database, clock=lambda: 0.0)


@pytest.fixture
def other_worker(overrides: dict[str, str]) -> Iterator[Flask]:
    """A second app on the same database and data dir: what another gunicorn worker holds."""
    app = create_app(overrides)
    dbmod.check_schema(runtime(app).db.engine)
    yield app
    runtime(app).db.dispose()


def _warm(feeds: Feeds) -> str:
    """Poll until this worker remembers the rendered feed; on SQLite a poll then asks nothing."""
    engine = runtime(feeds.app).db.engine
    etag: str = feeds.get().headers["ETag"]  # renders and stores: a commit, so
    feeds.get()  # this poll looks the feed up once more, and remembers it
    statements = Statements(engine)
    try:
        assert feeds.get().status_code == 200
        assert feeds.get(**{"If-None-Match": etag}).status_code == 304
    finally:
        statements.detach()
    # SQLite: the change stamp says nothing was committed, so nothing is asked at all.
    assert statements.count == (0 if engine.dialect.name == "sqlite" else 2)
    return etag


def test_a_poll_of_an_unchanged_feed_costs_at_most_one_query(feeds: Feeds) -> None:
    _warm(feeds)


def test_unknown_tokens_are_looked_up_every_time_and_never_remembered(feeds: Feeds) -> None:
    engine = runtime(feeds.app).db.engine
    statements = Statements(engine)
    try:
        for _ in range(3):
            assert feeds.get("/feeds/" + "a" * 32 + ".ics").status_code == 404
    finally:
        statements.detach()
    assert statements.count == 3


def test_rotation_in_another_worker_kills_the_old_url_here_at_once(
    feeds: Feeds, other_worker: Flask
) -> None:
    _warm(feeds)
    elsewhere = runtime(other_worker)
    with elsewhere.db.session() as db:
        rotate_feed(db, default_runner(db), elsewhere.secret)
    assert feeds.get().status_code == 404
    assert feeds.get(feeds.busy).status_code == 404


def test_a_plan_change_in_another_worker_reaches_this_one_at_once(
    feeds: Feeds, other_worker: Flask
) -> None:
    etag = _warm(feeds)
    elsewhere = runtime(other_worker)
    with elsewhere.db.session() as db:
        runner = default_runner(db)
        uid = _a_future_session(feeds)
        apply_override(db, runner, uid, OverrideAction.SKIP, today=TODAY)
    feeds.clock.now += timedelta(minutes=1)
    again = feeds.get(**{"If-None-Match": etag})
    assert again.status_code == 200
    assert uid.encode() not in again.data


def _a_future_session(feeds: Feeds) -> str:
    body = feeds.get().data.decode()
    blocks = body.split("BEGIN:VEVENT")[1:]
    for block in blocks:
        fields = dict(line.split(":", 1) for line in block.split("\r\n") if ":" in line)
        if fields["DTSTART"][:8] > TODAY.strftime("%Y%m%d"):
            return fields["UID"]
    raise AssertionError("no future session in the feed")
