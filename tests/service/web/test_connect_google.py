"""Connecting Google Calendar through the fake Google: consent with state and PKCE, sealed grants,
refresh, a revoked grant needing reconnection, and disconnecting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select, text

from integrations.errors import AuthExpired
from integrations.google.oauth import CALENDAR_SCOPE
from integrations.http import new_session
from service import db as dbmod
from service.app import create_app, runtime
from service.crypto import Sealer
from service.models import Connection, OAuthState, utcnow
from service.usecases.google_connection import fresh_grant, google_connection
from service.usecases.grants import NEEDS_RECONNECT
from tests.fakes.google import FakeGoogle
from tests.service.web.conftest import Member, sign_up


@pytest.fixture
def google_app(overrides: dict[str, str], fake_google: FakeGoogle) -> Iterator[Flask]:
    """The app pointed at the fake Google, with a key to seal grants."""
    key = Fernet.generate_key().decode("ascii")
    app = create_app({**overrides, **fake_google.settings_overrides(), "encryption_keys": key})
    dbmod.upgrade(runtime(app).db.engine)
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def runner(google_app: Flask) -> Member:
    return sign_up(google_app, "runner@example.com")


def _start(member: Member) -> str:
    response = member.post("/connect/google")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return str(response.headers["Location"])


def _connect(member: Member, fake: FakeGoogle) -> str:
    """Run the whole consent round trip; the page the runner lands on."""
    back = urlsplit(fake.approve(_start(member)))
    landed = member.client.get(f"{back.path}?{back.query}")
    assert landed.status_code == 302
    page = member.client.get(landed.headers["Location"])
    return page.get_data(as_text=True)


def _connection(app: Flask, member: Member) -> Connection | None:
    with runtime(app).db.session() as db:
        return google_connection(db, member.runner_id)


def test_connect_sends_the_runner_to_google_with_state_and_an_s256_challenge(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    url = urlsplit(_start(runner))
    assert url.geturl().startswith(fake_google.url + "/o/oauth2/v2/auth")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["scope"] == CALENDAR_SCOPE
    assert query["access_type"] == "offline"
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/connect/google/callback"
    with runtime(google_app).db.session() as db:
        stored = db.get_one(OAuthState, query["state"])
        assert stored.runner_id == runner.runner_id
        assert stored.code_verifier not in url.geturl()


def test_a_completed_consent_stores_a_sealed_grant_and_shows_connected(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    page = _connect(runner, fake_google)
    assert "Google Calendar is connected" in page
    connection = _connection(google_app, runner)
    assert connection is not None
    assert connection.state == "connected"
    assert CALENDAR_SCOPE in connection.scopes.split()
    assert connection.grant is not None
    grant = Sealer.from_settings(runtime(google_app).settings).open(connection.grant)
    assert grant.refresh_token
    with runtime(google_app).db.session() as db:
        raw = db.execute(text("SELECT * FROM connections")).all()
        assert grant.access_token not in repr(raw)
        assert grant.refresh_token not in repr(raw)
        assert db.scalar(select(func.count()).select_from(OAuthState)) == 0
    assert "Disconnect Google Calendar" in runner.client.get("/connections").get_data(as_text=True)


def test_a_state_works_once_and_only_for_the_runner_who_started(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    back = urlsplit(fake_google.approve(_start(runner)))
    intruder = sign_up(google_app, "intruder@example.com")
    stolen = intruder.client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "unknown or was already used" in stolen.get_data(as_text=True)
    assert _connection(google_app, intruder) is None
    assert _connection(google_app, runner) is None  # the state is spent either way


def test_denying_or_unticking_the_calendar_scope_connects_nothing(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    denied = urlsplit(fake_google.approve(_start(runner), allow=False))
    page = runner.client.get(f"{denied.path}?{denied.query}", follow_redirects=True)
    assert "you did not allow access" in page.get_data(as_text=True)
    fake_google.withhold_scopes(CALENDAR_SCOPE)
    page_text = _connect(runner, fake_google)
    assert "leave that box ticked" in page_text
    assert _connection(google_app, runner) is None


def test_without_encryption_keys_the_server_refuses_to_connect(
    overrides: dict[str, str], fake_google: FakeGoogle
) -> None:
    app = create_app({**overrides, **fake_google.settings_overrides()})
    dbmod.upgrade(runtime(app).db.engine)
    try:
        member = sign_up(app, "runner@example.com")
        response = member.post("/connect/google", follow_redirects=True)
        assert "must set encryption keys" in response.get_data(as_text=True)
        assert fake_google.count() == 0
    finally:
        runtime(app).db.dispose()


def test_an_expiring_grant_is_refreshed_and_the_new_one_kept(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    _connect(runner, fake_google)
    rt = runtime(google_app)
    later = utcnow() + timedelta(hours=2)
    with rt.db.session() as db:
        connection = google_connection(db, runner.runner_id)
        assert connection is not None
        before = Sealer.from_settings(rt.settings).open(connection.grant or b"")
        fresh = fresh_grant(db, connection, rt.settings, new_session(), later)
    assert fresh.access_token != before.access_token
    assert fresh.refresh_token == before.refresh_token
    stored = _connection(google_app, runner)
    assert stored is not None
    assert Sealer.from_settings(rt.settings).open(stored.grant or b"") == fresh


def test_a_revoked_grant_marks_the_connection_and_the_dashboard_says_so(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    _connect(runner, fake_google)
    fake_google.revoke_grants()
    rt = runtime(google_app)
    with rt.db.session() as db:
        connection = google_connection(db, runner.runner_id)
        assert connection is not None
        with pytest.raises(AuthExpired):
            fresh_grant(db, connection, rt.settings, new_session(), utcnow() + timedelta(hours=2))
    stored = _connection(google_app, runner)
    assert stored is not None
    assert stored.state == NEEDS_RECONNECT
    dashboard = runner.client.get("/").get_data(as_text=True)
    assert "A connection needs you" in dashboard
    connections = runner.client.get("/connections").get_data(as_text=True)
    assert "Reconnect Google Calendar" in connections
    assert "Google refused the stored grant" in connections


def test_disconnecting_revokes_at_google_and_can_remove_our_calendar(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    _connect(runner, fake_google)
    calendar_id = fake_google.add_calendar("runstrength", "Europe/Berlin")
    rt = runtime(google_app)
    with rt.db.session() as db:
        connection = google_connection(db, runner.runner_id)
        assert connection is not None
        connection.calendar_id = calendar_id
    page = runner.post("/connect/google/disconnect", {"remove_data": "1"}, follow_redirects=True)
    assert "runstrength calendar deleted" in page.get_data(as_text=True)
    assert _connection(google_app, runner) is None
    assert calendar_id not in fake_google.calendars
    assert fake_google.count(method="POST", path="/revoke") == 1


def test_google_routes_do_not_exist_when_google_is_not_configured(member: Member) -> None:
    assert member.post("/connect/google").status_code == 404
    assert member.client.get("/connect/google/callback?state=x&code=y").status_code == 404


def test_nothing_is_stored_for_a_consent_that_came_back_incomplete(
    runner: Member, google_app: Flask, tmp_path: Path
) -> None:
    page = runner.client.get("/connect/google/callback?state=abc", follow_redirects=True)
    assert "incomplete" in page.get_data(as_text=True)
    assert _connection(google_app, runner) is None


def test_the_runner_chooses_the_reminder_lead_time_from_the_offered_ones(
    google_app: Flask, runner: Member, fake_google: FakeGoogle
) -> None:
    _connect(runner, fake_google)
    page = runner.post("/connect/google/reminder", {"minutes": "30"}, follow_redirects=True)
    assert "Reminder changed" in page.get_data(as_text=True)
    assert '<option value="30" selected>' in page.get_data(as_text=True)
    refused = runner.post("/connect/google/reminder", {"minutes": "7"}, follow_redirects=True)
    assert "was not changed" in refused.get_data(as_text=True)
    stored = _connection(google_app, runner)
    assert stored is not None
    assert stored.reminder_minutes == 30
