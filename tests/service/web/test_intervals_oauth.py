"""Connecting intervals.icu through its consent page (the fake's): the scopes the runner keeps
decide what is read and sent, the token is sealed and sent as a bearer token, and OAuth and
the API key replace each other in the runner's one connection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select, text

from service import db as dbmod
from service.app import create_app, runtime
from service.crypto import Sealer
from service.models import Activity, Connection, utcnow
from service.usecases.intervals_connection import intervals_connection
from tests.fakes.intervals import FakeIntervals
from tests.fakes.intervals_oauth import consent
from tests.service.web.conftest import Member, sign_up


def make_app(overrides: dict[str, str], settings: dict[str, str]) -> Flask:
    key = Fernet.generate_key().decode("ascii")
    app = create_app({**overrides, **settings, "encryption_keys": key})
    dbmod.upgrade(runtime(app).db.engine)
    return app


@pytest.fixture
def oauth_app(overrides: dict[str, str], fake_intervals: FakeIntervals) -> Iterator[Flask]:
    """The app pointed at the fake intervals.icu, with an OAuth app registered there."""
    app = make_app(overrides, fake_intervals.settings_overrides(oauth=True))
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def runner(oauth_app: Flask) -> Member:
    return sign_up(oauth_app, "runner@example.com")


def start(member: Member) -> str:
    """Press "Connect with intervals.icu": the consent page's address."""
    started = member.client.get("/connect/intervals/oauth")
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    return str(started.headers["Location"])


def come_back(member: Member, location: str) -> str:
    """Follow intervals.icu's redirect to our callback; the page the runner lands on."""
    back = urlsplit(location)
    assert back.path == "/connect/intervals/callback"
    landed = member.client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert landed.status_code == 200
    return str(landed.get_data(as_text=True))


def connect(member: Member, *, untick: set[str] | frozenset[str] = frozenset()) -> str:
    return come_back(member, consent(start(member), untick=untick))


def stored(app: Flask, member: Member) -> Connection | None:
    with runtime(app).db.session() as db:
        return intervals_connection(db, member.runner_id)


def sealed_secret(app: Flask, connection: Connection) -> str:
    assert connection.grant is not None
    return Sealer.from_settings(runtime(app).settings).open(connection.grant).access_token


def test_the_page_offers_intervals_sign_in_and_keeps_the_api_key_form(runner: Member) -> None:
    page = runner.client.get("/connections").get_data(as_text=True)

    assert 'href="/connect/intervals/oauth"' in page
    assert "Connect with intervals.icu" in page
    assert 'name="api_key"' in page


def test_without_an_app_id_only_the_api_key_is_offered(
    overrides: dict[str, str], fake_intervals: FakeIntervals
) -> None:
    app = make_app(overrides, fake_intervals.settings_overrides())
    try:
        member = sign_up(app, "keys-only@example.com")
        page = member.client.get("/connections").get_data(as_text=True)
        assert "/connect/intervals/oauth" not in page
        assert 'name="api_key"' in page
        assert member.client.get("/connect/intervals/oauth").status_code == 404
        assert member.client.get("/connect/intervals/callback?code=c&state=s").status_code == 404
    finally:
        runtime(app).db.dispose()


def test_approving_every_scope_connects_and_reads_runs_and_plans_with_the_sealed_token(
    oauth_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    fake_intervals.add_activity(datetime.now() - timedelta(days=3))
    fake_intervals.add_event(utcnow().date() + timedelta(days=2), "Tempo 6 km", moving_time=1800)

    page = connect(runner)

    assert "intervals.icu is connected as Rita Runner" in page
    assert "1 new activities" in page
    assert "1 planned runs" in page
    connection = stored(oauth_app, runner)
    assert connection is not None
    assert (connection.account, connection.scopes) == (
        "Rita Runner",
        "ACTIVITY:READ CALENDAR:WRITE",
    )
    token = sealed_secret(oauth_app, connection)
    assert token in fake_intervals.oauth.issued
    assert {r.token for r in fake_intervals.requests("GET", "/activities$")} == {token}
    with runtime(oauth_app).db.session() as db:
        assert token not in repr(db.execute(text("SELECT * FROM connections")).all())
        assert db.scalar(select(func.count()).select_from(Activity)) == 1


def test_sessions_go_to_the_calendar_with_the_token_when_calendar_writing_was_allowed(
    runner: Member, fake_intervals: FakeIntervals
) -> None:
    connect(runner)

    page = runner.post("/connect/intervals/push", {"push": "1"}, follow_redirects=True)

    assert "sessions sent to your intervals.icu calendar" in page.get_data(as_text=True)
    assert fake_intervals.events(by_app=True)


def test_unticking_activity_access_connects_nothing_and_says_what_to_tick(
    oauth_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    page = connect(runner, untick={"ACTIVITY:READ"})

    assert "intervals.icu was not connected" in page
    assert "leave activity access (ACTIVITY:READ) ticked" in page
    assert stored(oauth_app, runner) is None
    assert fake_intervals.count("GET", "/activities$") == 0


def test_unticking_calendar_access_connects_without_plans_and_refuses_to_send_sessions(
    oauth_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    fake_intervals.add_activity(datetime.now() - timedelta(days=1))
    fake_intervals.add_event(utcnow().date() + timedelta(days=2), "Tempo 6 km")

    page = connect(runner, untick={"CALENDAR:WRITE"})

    assert "intervals.icu is connected" in page
    assert "1 new activities" in page
    assert "Calendar access was left unticked" in page
    assert fake_intervals.count("GET", "/events$") == 0  # the token may not read the calendar
    connections = runner.client.get("/connections").get_data(as_text=True)
    assert re.search(r"<button [^>]*disabled[^>]*>Send my sessions", connections)
    assert 'action="/connect/intervals/push"' not in connections
    assert "without permission to write to your calendar" in connections
    refused = runner.post("/connect/intervals/push", {"push": "1"}, follow_redirects=True)
    assert "Sessions were not sent to intervals.icu" in refused.get_data(as_text=True)
    assert fake_intervals.events(by_app=True) == []
    connection = stored(oauth_app, runner)
    assert connection is not None
    assert (connection.state, connection.calendar_id) == ("connected", None)


def test_a_declined_consent_leaves_no_connection(oauth_app: Flask, runner: Member) -> None:
    page = come_back(runner, consent(start(runner), approve=False))

    assert "intervals.icu was not connected: you did not allow access" in page
    assert stored(oauth_app, runner) is None


def test_a_state_we_did_not_hand_out_is_refused(
    oauth_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    location = consent(start(runner))
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    forged = urlsplit(location)._replace(query=urlencode(query | {"state": "made-up"})).geturl()

    page = come_back(runner, forged)

    assert "unknown or was already used" in page
    assert stored(oauth_app, runner) is None
    assert fake_intervals.oauth.issued == {}  # refused before the code was exchanged


def test_a_callback_replayed_after_connecting_is_refused_and_changes_nothing(
    oauth_app: Flask, runner: Member
) -> None:
    location = consent(start(runner))
    come_back(runner, location)
    first = stored(oauth_app, runner)
    assert first is not None

    page = come_back(runner, location)

    assert "unknown or was already used" in page
    again = stored(oauth_app, runner)
    assert again is not None
    assert (again.id, again.grant) == (first.id, first.grant)


def test_a_failing_token_endpoint_is_explained_and_nothing_is_stored(
    oauth_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    location = consent(start(runner))
    fake_intervals.fail(500, method="POST", path="/api/oauth/token")

    page = come_back(runner, location)

    assert "intervals.icu was not connected: intervals.icu could not be asked" in page
    assert "try again later" in page
    assert stored(oauth_app, runner) is None
    assert "already used" in come_back(runner, location)  # a state serves one attempt


def test_oauth_and_the_api_key_replace_each_other_in_one_connection(
    oauth_app: Flask, runner: Member, fake_intervals: FakeIntervals
) -> None:
    runner.post("/connect/intervals", {"api_key": fake_intervals.api_key})
    keyed = stored(oauth_app, runner)
    assert keyed is not None
    assert keyed.scopes == ""

    connect(runner)
    by_oauth = stored(oauth_app, runner)
    assert by_oauth is not None
    token = sealed_secret(oauth_app, by_oauth)
    assert (by_oauth.id, by_oauth.scopes) == (keyed.id, "ACTIVITY:READ CALENDAR:WRITE")
    assert token != fake_intervals.api_key

    runner.post("/connect/intervals", {"api_key": fake_intervals.api_key})
    fake_intervals.clear_log()
    runner.post("/connect/intervals/push", {"push": "1"})
    back_to_key = stored(oauth_app, runner)
    assert back_to_key is not None
    assert (back_to_key.id, back_to_key.scopes, back_to_key.account) == (keyed.id, "", "")
    assert sealed_secret(oauth_app, back_to_key) == fake_intervals.api_key
    assert {r.token for r in fake_intervals.requests("POST")} == {fake_intervals.api_key}
    with runtime(oauth_app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Connection)) == 1


def test_disconnecting_an_oauth_connection_deletes_the_token(
    oauth_app: Flask, runner: Member
) -> None:
    connect(runner)

    page = runner.post("/connect/intervals/disconnect", follow_redirects=True)

    assert "its access token deleted" in page.get_data(as_text=True)
    assert stored(oauth_app, runner) is None
