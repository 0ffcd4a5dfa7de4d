"""The connections page: one row per service, honest about what this server offers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import lxml.html
import pytest
from flask import Flask
from lxml.html import HtmlElement

from service import db as dbmod
from service.app import create_app, runtime
from tests.service.web.conftest import Member, sign_up

ROWS = {
    "google_calendar": "Google Calendar",
    "strava": "Strava",
    "intervals_icu": "intervals.icu",
}
CLIENTS = {
    "google_client_id": "google-id",
    "google_client_secret": "google-secret",
    "strava_client_id": "strava-id",
    "strava_client_secret": "strava-secret",
}


@pytest.fixture
def configured_app(overrides: dict[str, str]) -> Iterator[Flask]:
    """A server with Google and Strava clients set up."""
    application = create_app(overrides | CLIENTS)
    dbmod.upgrade(runtime(application).db.engine)
    yield application
    runtime(application).db.dispose()


def _rows(member: Member) -> dict[str, str]:
    response = member.client.get("/connections")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    page: HtmlElement = lxml.html.fromstring(response.get_data(as_text=True))
    return {
        key: " ".join(page.get_element_by_id(f"connection-{key}").text_content().split())
        for key in ROWS
    }


def test_each_connection_type_has_a_row_with_its_state(member: Member) -> None:
    rows = _rows(member)
    for key, name in ROWS.items():
        assert rows[key].startswith(f"{name} Not connected")


def test_services_without_a_client_on_this_server_say_so(member: Member) -> None:
    rows = _rows(member)
    assert "Not available on this server" in rows["google_calendar"]
    assert "RUNSTRENGTH_GOOGLE_CLIENT_ID" in rows["google_calendar"]
    assert "Not available on this server" in rows["strava"]
    assert "Not available on this server" not in rows["intervals_icu"]
    assert "Connect intervals.icu" in rows["intervals_icu"]  # each runner brings an API key


def test_services_with_a_client_on_this_server_are_available(configured_app: Flask) -> None:
    rows = _rows(sign_up(configured_app, "runner@example.com"))
    for key in ROWS:
        assert "Not available on this server" not in rows[key]
    for key, name in ROWS.items():
        assert f"Connect {name}" in rows[key]


def test_a_client_id_without_its_secret_is_not_enough(overrides: dict[str, str]) -> None:
    application = create_app(overrides | {"google_client_id": "google-id"})
    dbmod.upgrade(runtime(application).db.engine)
    try:
        rows = _rows(sign_up(application, "runner@example.com"))
    finally:
        runtime(application).db.dispose()
    assert "Not available on this server" in rows["google_calendar"]


def test_each_runner_sees_only_their_own_rows(member: Member, other: Member) -> None:
    assert _rows(member) == _rows(other)
    assert "runner@example.com" not in other.client.get("/connections").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask) -> None:
    response = app.test_client().get("/connections")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/signin"
