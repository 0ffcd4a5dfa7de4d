"""The API tokens page: a token is shown once, works as a Bearer token, and dies when revoked."""

from __future__ import annotations

import lxml.html
from flask import Flask
from lxml.html import HtmlElement
from sqlalchemy import text
from werkzeug.test import TestResponse

from service.app import runtime
from tests.service.web.conftest import Member


def _html(response: TestResponse) -> HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def _create(member: Member, name: str) -> str:
    """Create a token through the form and return the value the page shows once."""
    response = member.post("/settings/tokens", {"name": name})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    token: str = _html(response).get_element_by_id("new-token").get("value")
    assert token.startswith("rs_")
    return token


def _token_ids(member: Member) -> list[int]:
    page = _html(member.client.get("/settings/tokens"))
    return [
        int(row.get("id").removeprefix("token-")) for row in page.xpath("//li[@class='token-row']")
    ]


def _bearer(app: Flask, token: str, path: str = "/api/v1/plan") -> int:
    response = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_a_new_token_is_shown_once_and_then_only_its_name(member: Member) -> None:
    token = _create(member, "  training   spreadsheet ")
    page = member.client.get("/settings/tokens")
    html = page.get_data(as_text=True)
    assert token not in html
    assert "training spreadsheet" in html
    assert "never used" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_a_created_token_reads_the_plan_until_it_is_revoked(app: Flask, member: Member) -> None:
    token = _create(member, "script")
    assert _bearer(app, token) == 200
    assert "last used" in member.client.get("/settings/tokens").get_data(as_text=True)
    (token_id,) = _token_ids(member)
    response = member.post(f"/settings/tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert "revoked" in member.client.get("/settings/tokens").get_data(as_text=True)
    assert _bearer(app, token) == 401
    assert _token_ids(member) == []


def test_a_token_acts_for_its_own_runner_only(app: Flask, member: Member, other: Member) -> None:
    token = _create(member, "mine")
    response = app.test_client().get("/api/v1/feed", headers={"Authorization": f"Bearer {token}"})
    mine = member.client.get("/api/v1/feed").get_json()
    assert response.get_json() == mine
    assert other.client.get("/api/v1/feed").get_json() != mine


def test_a_token_does_not_open_the_web_pages(app: Flask, member: Member) -> None:
    token = _create(member, "script")
    response = app.test_client().get(
        "/settings/tokens", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 302


def test_another_runner_cannot_see_or_revoke_my_token(
    app: Flask, member: Member, other: Member
) -> None:
    token = _create(member, "private name")
    (token_id,) = _token_ids(member)
    assert "private name" not in other.client.get("/settings/tokens").get_data(as_text=True)
    assert other.post(f"/settings/tokens/{token_id}/revoke").status_code == 404
    assert _token_ids(member) == [token_id]
    assert _bearer(app, token) == 200


def test_revoking_an_unknown_token_is_a_404(member: Member) -> None:
    assert member.post("/settings/tokens/999999/revoke").status_code == 404


def test_a_token_needs_a_name_shown_next_to_the_field(member: Member) -> None:
    for name in ("", "   ", "x" * 101):
        response = member.post("/settings/tokens", {"name": name})
        assert response.status_code == 400
        page = _html(response)
        error = page.get_element_by_id("name-error").text_content()
        assert error.strip()
        field = page.get_element_by_id("name")
        assert field.get("aria-invalid") == "true"
        assert "name-error" in field.get("aria-describedby")
        assert not page.xpath("//*[@id='new-token']")
    assert _token_ids(member) == []


def test_creating_without_a_csrf_token_is_refused(member: Member) -> None:
    response = member.client.post("/settings/tokens", data={"name": "sneaky"})
    assert response.status_code == 400
    assert _token_ids(member) == []


def test_the_token_is_stored_only_as_a_hash(app: Flask, member: Member) -> None:
    token = _create(member, "hashed")
    with runtime(app).db.session() as db:
        rows = db.execute(text("SELECT * FROM api_tokens")).all()
    assert len(rows) == 1
    dumped = repr([tuple(row) for row in rows])
    assert token not in dumped
    assert token.removeprefix("rs_") not in dumped


def test_a_token_id_beyond_the_database_s_integers_is_simply_not_found(member: Member) -> None:
    huge = 2**64
    assert member.api("DELETE", f"/api/v1/tokens/{huge}").status_code == 404
    assert member.post(f"/settings/tokens/{huge}/revoke").status_code == 404
