"""Sign up, sign in, sign out and password change through the real forms, cookies and CSRF."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import lxml.html
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from service.app import create_app, runtime
from service.models import Account, Runner
from service.usecases.accounts import FAILURES_PER_WINDOW
from tests.service.web.conftest import PASSWORD, Member, csrf


def _post_sign_in(
    app: Flask, email: str, password: str, next_path: str = ""
) -> tuple[FlaskClient, TestResponse]:
    client = app.test_client()
    token = csrf(client, "/signin")
    form = {"email": email, "password": password, "csrf_token": token, "next": next_path}
    return client, client.post("/signin", data=form)


def _sign_in(app: Flask, email: str, password: str) -> tuple[FlaskClient, int]:
    client, response = _post_sign_in(app, email, password)
    return client, response.status_code


def _errors(html: str) -> dict[str, str]:
    page = lxml.html.fromstring(html)
    return {
        e.get("id").removesuffix("-error"): " ".join(e.text_content().split())
        for e in page.xpath('//p[@class="field-error"]')
    }


def test_signing_up_creates_an_account_with_its_own_runner_and_leads_to_onboarding(
    app: Flask,
) -> None:
    client = app.test_client()
    token = csrf(client, "/signup")
    form = {
        "email": "New.Runner@Example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "timezone": "America/Denver",
        "csrf_token": token,
    }
    response = client.post("/signup", data=form)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/onboarding"
    with runtime(app).db.session() as db:
        account = db.scalars(select(Account)).one()
        assert account.email == "new.runner@example.com"
        assert account.password_hash.startswith("$argon2id$")
        assert PASSWORD not in account.password_hash
        assert db.get_one(Runner, account.runner_id).timezone == "America/Denver"
    assert client.get("/").status_code == 200


def test_the_session_cookie_is_http_only_same_site_and_secure_behind_https(
    overrides: dict[str, str],
) -> None:
    from service import db as dbmod

    app = create_app({**overrides, "base_url": "https://runstrength.example"})
    dbmod.upgrade(runtime(app).db.engine)
    try:
        client = app.test_client()
        response = client.get("/signup", base_url="https://runstrength.example")
        header = response.headers["Set-Cookie"]
        cookie = SimpleCookie(header)["runstrength_session"]
        assert cookie["httponly"]
        assert cookie["secure"]
        assert cookie["samesite"] == "Lax"
    finally:
        runtime(app).db.dispose()


def test_sign_up_errors_show_next_to_their_fields_and_store_nothing(app: Flask) -> None:
    client = app.test_client()
    form = {"email": "not-an-email", "password": "short", "confirm": "other", "timezone": ""}
    response = client.post("/signup", data=form | {"csrf_token": csrf(client, "/signup")})
    assert response.status_code == 400
    errors = _errors(response.get_data(as_text=True))
    assert "at least 10 characters" in errors["password"]
    assert "differ" in errors["confirm"]
    with runtime(app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Account)) == 0


def test_an_email_can_only_sign_up_once(app: Flask, member: Member) -> None:
    client = app.test_client()
    form = {"email": member.email.upper(), "password": PASSWORD, "confirm": PASSWORD}
    response = client.post("/signup", data=form | {"csrf_token": csrf(client, "/signup")})
    assert response.status_code == 400
    assert "sign in instead" in _errors(response.get_data(as_text=True))["email"]


def test_a_form_without_its_csrf_token_is_refused(app: Flask) -> None:
    form = {"email": "a@example.com", "password": PASSWORD, "confirm": PASSWORD}
    response = app.test_client().post("/signup", data=form)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    with runtime(app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Account)) == 0


def test_signing_in_goes_back_where_the_runner_was_headed_but_never_off_site(
    app: Flask, member: Member
) -> None:
    client = app.test_client()
    first = client.get("/settings")
    assert first.status_code == 302
    assert first.headers["Location"] == "/signin?next=/settings"
    for target, expected in (("/settings", "/settings"), ("//evil.example/", "/")):
        _client, response = _post_sign_in(app, member.email, PASSWORD, target)
        assert response.status_code == 302
        assert response.headers["Location"] == expected


def test_a_wrong_password_is_told_plainly_and_too_many_are_throttled(
    app: Flask, member: Member
) -> None:
    for _attempt in range(FAILURES_PER_WINDOW):
        _client, status = _sign_in(app, member.email, "wrong password!")
        assert status == 401
    _client, status = _sign_in(app, member.email, PASSWORD)
    assert status == 429
    _client, response = _post_sign_in(app, member.email, PASSWORD)
    assert response.headers["Retry-After"].isdigit()
    assert "too many failed sign-ins" in _errors(response.get_data(as_text=True))["password"]


def test_signing_out_ends_the_session(member: Member) -> None:
    response = member.post("/signout")
    assert response.status_code == 302
    assert member.client.get("/").status_code == 302
    assert member.client.get("/api/v1/plan").status_code == 401


def test_changing_the_password_signs_out_every_other_browser(app: Flask, member: Member) -> None:
    laptop, status = _sign_in(app, member.email, PASSWORD)
    assert status == 302
    new = "an even longer passphrase"
    form = {"current": PASSWORD, "new": new, "confirm": new}
    response = member.post("/settings/password", form)
    assert response.status_code == 302
    assert member.client.get("/").status_code == 200  # this browser stays signed in
    assert laptop.get("/").status_code == 302
    assert _sign_in(app, member.email, PASSWORD)[1] == 401
    assert _sign_in(app, member.email, new)[1] == 302


def test_a_wrong_current_password_changes_nothing(app: Flask, member: Member) -> None:
    form = {"current": "not my password", "new": "whatever it is now", "confirm": "whatever"}
    response = member.post("/settings/password", form)
    assert response.status_code == 400
    assert "differ" in _errors(response.get_data(as_text=True))["confirm"]
    form["confirm"] = form["new"]
    response = member.post("/settings/password", form)
    assert response.status_code == 400
    assert "wrong" in _errors(response.get_data(as_text=True))["current"]
    assert _sign_in(app, member.email, PASSWORD)[1] == 302


def test_single_runner_mode_needs_no_sign_in_and_has_no_sign_up(single_app: Flask) -> None:
    client = single_app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/plan").status_code == 200
    assert urlsplit(client.get("/signup").headers["Location"]).path == "/"
    assert client.get("/settings/password").status_code == 404


def test_a_multipart_part_with_a_broken_name_is_a_clear_400_not_a_crash(
    single_app: Flask,
) -> None:
    body = (  # a part whose name is only a carriage return leaves werkzeug with no name at all
        b'--xyz\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.fit"\r\n\r\n'
        b"\r\n--xyz--\r\n"
    )
    response = single_app.test_client().post(
        "/api/v1/imports", data=body, content_type="multipart/form-data; boundary=xyz"
    )
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("bad request")
