"""Sign in with Google through the fake Google: new runners get an account, known emails sign in."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import db as dbmod
from service.app import create_app, runtime
from service.models import Account
from tests.fakes.google import FakeGoogle
from tests.service.web.conftest import csrf, sign_up


@pytest.fixture
def google_app(overrides: dict[str, str], fake_google: FakeGoogle) -> Iterator[Flask]:
    app = create_app({**overrides, **fake_google.settings_overrides()})
    dbmod.upgrade(runtime(app).db.engine)
    yield app
    runtime(app).db.dispose()


def _sign_in_with_google(client: FlaskClient, fake: FakeGoogle, *, allow: bool = True) -> str:
    """Press the button, consent at the fake, follow the way back; where the runner lands."""
    start = client.post("/signin/google", data={"csrf_token": csrf(client, "/signin")})
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["scope"] == ["openid email"]
    assert "access_type" not in query
    back = urlsplit(fake.approve(start.headers["Location"], allow=allow))
    landed = client.get(f"{back.path}?{back.query}")
    assert landed.status_code == 302
    return urlsplit(landed.headers["Location"]).path


def _accounts(app: Flask) -> int:
    with runtime(app).db.session() as db:
        return int(db.scalar(select(func.count()).select_from(Account)) or 0)


def test_the_buttons_show_only_when_the_server_has_a_google_client(
    google_app: Flask, app: Flask
) -> None:
    for path in ("/signin", "/signup"):
        assert "with Google" in google_app.test_client().get(path).get_data(as_text=True)
        assert "with Google" not in app.test_client().get(path).get_data(as_text=True)
    client = app.test_client()
    assert client.post("/signin/google", data={"csrf_token": csrf(client)}).status_code == 404


def test_a_new_google_user_gets_an_account_and_goes_to_onboarding(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    client = google_app.test_client()
    assert _sign_in_with_google(client, fake_google) == "/onboarding"
    assert _accounts(google_app) == 1
    assert client.get("/").status_code == 200
    again = google_app.test_client()
    assert _sign_in_with_google(again, fake_google) == "/"
    assert _accounts(google_app) == 1


def test_a_known_email_signs_in_to_its_existing_account(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    member = sign_up(google_app, "runner@example.com")  # the fake's Google account
    client = google_app.test_client()
    assert _sign_in_with_google(client, fake_google) == "/"
    assert _accounts(google_app) == 1
    plan = client.get("/api/v1/plan").get_json()
    assert plan == member.client.get("/api/v1/plan").get_json()


def test_declining_at_google_signs_nobody_in(google_app: Flask, fake_google: FakeGoogle) -> None:
    client = google_app.test_client()
    assert _sign_in_with_google(client, fake_google, allow=False) == "/signin"
    assert client.get("/").status_code == 302
    assert _accounts(google_app) == 0


def test_a_replayed_callback_does_not_sign_in(google_app: Flask, fake_google: FakeGoogle) -> None:
    client = google_app.test_client()
    start = client.post("/signin/google", data={"csrf_token": csrf(client, "/signin")})
    back = urlsplit(fake_google.approve(start.headers["Location"]))
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    stranger = google_app.test_client()
    replay = stranger.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "unknown or was already used" in replay.get_data(as_text=True)
    assert stranger.get("/").status_code == 302
