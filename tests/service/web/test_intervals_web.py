"""The intervals.icu row of the connections page: connect with an API key (checked against the
fake), the Strava stubs notice, sending sessions on and off, scoping, and disconnecting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select, text

from service import db as dbmod
from service.app import create_app, runtime
from service.crypto import Sealer
from service.models import Activity, Connection, utcnow
from service.usecases.intervals_connection import intervals_connection
from tests.fakes.intervals import FakeIntervals
from tests.service.web.conftest import Member, sign_up


@pytest.fixture
def icu_app(overrides: dict[str, str], fake_intervals: FakeIntervals) -> Iterator[Flask]:
    """The app pointed at the fake intervals.icu, with a key to seal API keys."""
    key = Fernet.generate_key().decode("ascii")
    app = create_app({**overrides, **fake_intervals.settings_overrides(), "encryption_keys": key})
    dbmod.upgrade(runtime(app).db.engine)
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def runner(icu_app: Flask) -> Member:
    return sign_up(icu_app, "runner@example.com")


def _connection(app: Flask, member: Member) -> Connection | None:
    with runtime(app).db.session() as db:
        return intervals_connection(db, member.runner_id)


def _connect(member: Member, key: str) -> str:
    page = member.post("/connect/intervals", {"api_key": key}, follow_redirects=True)
    assert page.status_code == 200
    return str(page.get_data(as_text=True))


def test_the_connections_page_asks_for_an_api_key(runner: Member) -> None:
    page = runner.client.get("/connections").get_data(as_text=True)
    assert 'name="api_key"' in page
    assert 'action="/connect/intervals"' in page


def test_a_good_key_is_stored_sealed_and_runs_are_read_at_once(
    icu_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    fake_intervals.add_activity(datetime.now() - timedelta(days=3))
    fake_intervals.add_strava_stub(datetime.now() - timedelta(days=2))

    page = _connect(runner, fake_intervals.api_key)

    assert "intervals.icu is connected" in page
    assert "1 new activities" in page
    assert "import your Strava archive" in page  # the stub, and what to do about it
    connection = _connection(icu_app, runner)
    assert connection is not None
    assert connection.grant is not None
    sealed = Sealer.from_settings(runtime(icu_app).settings).open(connection.grant)
    assert sealed.access_token == fake_intervals.api_key
    with runtime(icu_app).db.session() as db:
        assert fake_intervals.api_key not in repr(
            db.execute(text("SELECT * FROM connections")).all()
        )
        assert len(db.scalars(select(Activity)).all()) == 1


def test_a_wrong_key_is_explained_and_nothing_is_stored(
    icu_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    page = _connect(runner, "not-the-key")

    assert "did not accept this API key" in page
    assert _connection(icu_app, runner) is None
    assert fake_intervals.count() == 1  # one call checked it
    assert "paste the API key" in _connect(runner, "  ")
    assert fake_intervals.count() == 1  # an empty key is refused without calling out


def test_sending_sessions_puts_them_on_the_calendar_and_turning_it_off_removes_them(
    icu_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    _connect(runner, fake_intervals.api_key)
    own = fake_intervals.add_event(utcnow().date() + timedelta(days=2), "Club run")

    page = runner.post("/connect/intervals/push", {"push": "1"}, follow_redirects=True)

    assert "sessions sent to your intervals.icu calendar" in page.get_data(as_text=True)
    assert fake_intervals.events(by_app=True)
    assert "Stop sending sessions" in runner.client.get("/connections").get_data(as_text=True)
    runner.post("/connect/intervals/push", {"push": "0"})
    assert fake_intervals.events(by_app=True) == []
    assert fake_intervals.events(by_app=False) == [own]


def test_another_runner_never_sees_or_changes_the_connection(
    icu_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    _connect(runner, fake_intervals.api_key)
    other = sign_up(icu_app, "other@example.com")

    page = other.client.get("/connections").get_data(as_text=True)

    assert "Disconnect intervals.icu" not in page
    assert other.post("/connect/intervals/push", {"push": "1"}).status_code == 404
    assert other.post("/connect/intervals/disconnect").status_code == 404
    assert _connection(icu_app, runner) is not None
    assert fake_intervals.events(by_app=True) == []


def test_disconnecting_deletes_the_key(
    icu_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    _connect(runner, fake_intervals.api_key)
    assert "Disconnect intervals.icu" in runner.client.get("/connections").get_data(as_text=True)

    page = runner.post("/connect/intervals/disconnect", follow_redirects=True)

    assert "API key deleted" in page.get_data(as_text=True)
    assert _connection(icu_app, runner) is None
    with runtime(icu_app).db.session() as db:
        assert db.scalars(select(Connection)).all() == []
