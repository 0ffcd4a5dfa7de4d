"""Onboarding and settings pages: the preferences form, the data download and account deletion."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from flask import Flask
from lxml.html import HtmlElement
from sqlalchemy import func, select

from integrations.files.sources import Walk
from service.app import runtime
from service.models import Activity, Feed, Runner
from service.preferences import WEEKDAYS
from service.usecases.api_tokens import create_token
from service.usecases.feeds import feed_links
from service.usecases.import_files import import_sources
from service.usecases.runners import default_runner
from tests.service.test_runner_data import refers_to_runner
from tests.service.web.conftest import PASSWORD, TODAY, Member, csrf

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "activities"
EVENINGS = {f"avail_{day}": "18:00-21:00" for day in WEEKDAYS}
FORM: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "units": "km",
    "week_start": "monday",
    "equipment": ["gym"],
    **EVENINGS,
    "preferred_time": "evening",
    "long_run_day": "sunday",
    "hard_days": ["tuesday"],
    "race_date": "",
    "race_distance": "",
}


def _html(response: Any, status: int = 200) -> HtmlElement:
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _runner(app: Flask, runner_id: int) -> Runner:
    with runtime(app).db.session() as db:
        runner = db.get_one(Runner, runner_id)
        db.expunge(runner)
        return runner


def _import(app: Flask, runner_id: int, *names: str) -> None:
    paths = [SAMPLE / name for name in names] if names else [SAMPLE]
    import_sources(runtime(app).db, runner_id, Walk(paths).sources())


def _feed_path(app: Flask, runner_id: int) -> str:
    rt = runtime(app)
    with rt.db.session() as db:
        links = feed_links(db, db.get_one(Runner, runner_id), rt.settings, rt.secret)
    return urlsplit(links.https).path


def _plan(member: Member, weeks: int = 4) -> Any:
    response = member.client.get(f"/api/v1/plan?today={TODAY}&weeks={weeks}")
    assert response.status_code == 200
    return response.get_json()


def test_onboarding_stores_every_field_and_the_plan_follows_it(app: Flask, member: Member) -> None:
    form = {
        **FORM,
        "timezone": "America/New_York",
        "units": "mi",
        "week_start": "sunday",
        "equipment": ["dumbbells", "bands"],
        **{f"avail_{day}": "" for day in WEEKDAYS},
        "avail_monday": "06:00-07:30, 18:00-21:00",
        "avail_wednesday": "18:00\N{EN DASH}21:00",
        "avail_saturday": "08:00-12:00",
        "preferred_time": "morning",
        "long_run_day": "saturday",
        "hard_days": ["thursday"],
        "race_date": "2027-04-11",
        "race_distance": "21.0975",
    }
    response = member.post("/onboarding", form)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    runner = _runner(app, member.runner_id)
    assert (runner.timezone, runner.units, runner.week_start) == ("America/New_York", "mi", 6)
    assert runner.preferences == {
        "equipment": ["bands", "dumbbells"],
        "preferred_time": "morning",
        "run_minutes": 60,
        "min_session_minutes": 10,
        "max_session_minutes": 60,
        "long_run_day": "saturday",
        "hard_days": ["thursday"],
        "availability": {
            "monday": ["06:00-07:30", "18:00-21:00"],
            "wednesday": ["18:00-21:00"],
            "saturday": ["08:00-12:00"],
        },
        "race": {"date": "2027-04-11", "distance_km": 21.0975},
    }
    plan = _plan(member)
    assert plan["runner"] == {"timezone": "America/New_York", "units": "mi", "week_start": "sunday"}
    sessions = [s for week in plan["weeks"] for s in week["sessions"]]
    assert sessions
    assert {date.fromisoformat(s["date"]).weekday() for s in sessions} <= {0, 2, 5}
    assert "mi per week" in _text(_html(member.client.get("/")))


def test_a_bad_time_window_is_shown_next_to_its_field_and_nothing_is_stored(
    app: Flask, member: Member
) -> None:
    form = {**FORM, "avail_tuesday": "18:00-17:00", "units": "mi"}
    page = _html(member.post("/onboarding", form), 400)
    field = page.get_element_by_id("avail_tuesday")
    assert field.get("aria-invalid") == "true"
    assert field.get("value") == "18:00-17:00"
    assert "avail_tuesday-error" in field.get("aria-describedby")
    assert "end after the start" in _text(page.get_element_by_id("avail_tuesday-error"))
    runner = _runner(app, member.runner_id)
    assert (runner.preferences, runner.units) == ({}, "km")


def test_every_bad_field_gets_its_own_message_at_once(app: Flask, member: Member) -> None:
    form = {**FORM, "timezone": "Mars/Olympus", "avail_friday": "6pm", "race_date": "2027-04-11"}
    page = _html(member.post("/settings", form), 400)
    assert "unknown time zone" in _text(page.get_element_by_id("timezone-error"))
    assert "HH:MM" in _text(page.get_element_by_id("avail_friday-error"))
    assert "race distance" in _text(page.get_element_by_id("race_distance-error"))
    assert _runner(app, member.runner_id).preferences == {}


def test_onboarding_suggests_long_run_and_hard_days_from_the_runs(
    app: Flask, member: Member
) -> None:
    _import(app, member.runner_id)
    page = _html(member.client.get(f"/onboarding?today={TODAY}"))
    selected = page.xpath('//select[@name="long_run_day"]/option[@selected]/@value')
    assert selected == ["sunday"]
    assert page.xpath('//input[@name="hard_days"][@checked]/@value') == ["tuesday"]
    assert "Your runs point to Sunday" in _text(page)
    zone = page.get_element_by_id("timezone")
    assert zone.get("value", "") == ""
    assert zone.get("data-browser-timezone") is not None
    assert page.get_element_by_id("avail_monday").get("value") == "06:00-08:00, 18:00-21:00"


def test_a_blank_time_zone_keeps_the_one_from_sign_up(app: Flask, member: Member) -> None:
    assert member.post("/onboarding", {**FORM, "timezone": ""}).status_code == 302
    assert _runner(app, member.runner_id).timezone == "Europe/Berlin"


def test_settings_show_what_was_stored_and_link_to_the_account_pages(member: Member) -> None:
    member.post("/onboarding", {**FORM, "avail_sunday": "", "equipment": ["bands"]})
    page = _html(member.client.get("/settings"))
    assert page.get_element_by_id("timezone").get("value") == "Europe/Berlin"
    assert page.get_element_by_id("avail_sunday").get("value", "") == ""
    assert page.get_element_by_id("avail_monday").get("value") == "18:00-21:00"
    assert page.xpath('//input[@name="equipment"][@checked]/@value') == ["bands"]
    links = set(page.xpath("//a/@href"))
    assert {"/settings/password", "/settings/tokens", "/settings/export.json"} <= links
    assert page.xpath('//form[@action="/settings/delete"]//input[@name="confirm"]')


def test_saving_settings_rebuilds_the_plan_and_moves_the_feed_etag(
    app: Flask, member: Member
) -> None:
    _import(app, member.runner_id)
    assert member.post("/settings", FORM).status_code == 302
    feed = _feed_path(app, member.runner_id)
    before, plan_before = app.test_client().get(feed), _plan(member)
    mornings = {f"avail_{day}": "06:00-08:00" for day in WEEKDAYS}
    response = member.post("/settings", {**FORM, **mornings, "preferred_time": "morning"})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/settings"
    after, plan_after = app.test_client().get(feed), _plan(member)
    assert before.status_code == after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    starts = {s["start"][11:16] for w in plan_after["weeks"] for s in w["sessions"]}
    assert starts
    assert all("06:00" <= start < "08:00" for start in starts)
    assert plan_after != plan_before
    assert "Saved." in _text(_html(member.client.get("/settings")))


def test_the_download_holds_the_runner_s_activities_and_nothing_of_another(
    app: Flask, member: Member, other: Member
) -> None:
    _import(app, member.runner_id, "2026-11-09_1830_easy.gpx.gz")
    _import(app, other.runner_id, "2026-11-15_0904_long.tcx")
    response = member.client.get("/settings/export.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/json"
    exported = json.loads(response.data)
    assert [Path(a["origin"]).name for a in exported["activities"]] == [
        "2026-11-09_1830_easy.gpx.gz"
    ]
    assert exported["account"]["email"] == member.email
    assert other.email not in response.get_data(as_text=True)
    assert "long.tcx" not in response.get_data(as_text=True)


def test_deleting_the_account_leaves_no_row_and_kills_the_feed_and_the_session(
    app: Flask, member: Member, other: Member
) -> None:
    _import(app, member.runner_id)
    _import(app, other.runner_id, "2026-11-15_0904_long.tcx")
    member.post("/settings", FORM)
    rt = runtime(app)
    with rt.db.session() as db:
        create_token(db, member.runner_id, "phone")
    feed = _feed_path(app, member.runner_id)
    assert app.test_client().get(feed).status_code == 200
    with rt.db.session() as db:
        feed_ids = set(db.scalars(select(Feed.id).where(Feed.runner_id == member.runner_id)))
    cookie = member.client.get_cookie("runstrength_session")
    assert cookie is not None
    response = member.post("/settings/delete", {"confirm": member.email.upper()})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/signup"
    assert "deleted" in _text(_html(member.client.get("/signup")))
    assert app.test_client().get(feed).status_code == 404
    with rt.db.session() as db:
        assert refers_to_runner(db, member.runner_id, feed_ids) == {}
        others = db.scalar(select(func.count()).where(Activity.runner_id == other.runner_id))
        assert others == 1
    old = app.test_client()
    old.set_cookie("runstrength_session", cookie.value)
    assert old.get("/settings").status_code == 302
    signin = {"email": member.email, "password": PASSWORD, "csrf_token": csrf(old)}
    assert old.post("/signin", data=signin).status_code == 401


def test_a_wrong_confirmation_deletes_nothing_and_says_so_by_the_field(
    app: Flask, member: Member, other: Member
) -> None:
    page = _html(member.post("/settings/delete", {"confirm": other.email}), 400)
    assert "email" in _text(page.get_element_by_id("confirm-error"))
    assert page.get_element_by_id("timezone").get("value") == "Europe/Berlin"
    assert _runner(app, member.runner_id).id == member.runner_id
    assert member.client.get("/settings").status_code == 200


def test_in_single_runner_mode_deleting_resets_to_an_empty_runner(sample_app: Flask) -> None:
    client = sample_app.test_client()
    feed = _feed_path(sample_app, _default_runner_id(sample_app))
    assert client.get(feed).status_code == 200
    page = _html(client.get("/settings"))
    assert "Type DELETE to confirm." in _text(page)
    assert not page.xpath('//a[@href="/settings/password"]')
    token = csrf(client, "/settings")
    response = client.post("/settings/delete", data={"confirm": "DELETE", "csrf_token": token})
    assert urlsplit(response.headers["Location"]).path == "/onboarding"
    assert client.get(feed).status_code == 404
    with runtime(sample_app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Activity)) == 0
        assert default_runner(db).preferences == {}
    assert client.get("/onboarding").status_code == 200


def _default_runner_id(app: Flask) -> int:
    with runtime(app).db.session() as db:
        return default_runner(db).id


def test_forms_without_a_csrf_token_are_refused(app: Flask, member: Member) -> None:
    for path, form in (
        ("/onboarding", FORM),
        ("/settings", FORM),
        ("/settings/delete", {"confirm": member.email}),
    ):
        assert member.client.post(path, data=form).status_code == 400, path
    assert _runner(app, member.runner_id).preferences == {}


def test_another_runner_sees_and_changes_only_their_own_settings(
    app: Flask, member: Member, other: Member
) -> None:
    member.post("/settings", {**FORM, "units": "mi", "avail_monday": "05:00-06:00"})
    page = _html(other.client.get("/settings"))
    assert page.get_element_by_id("avail_monday").get("value") != "05:00-06:00"
    assert page.xpath('//input[@name="units"][@checked]/@value') == ["km"]
    other.post("/settings", {**FORM, "units": "km", "avail_monday": "19:00-20:00"})
    mine = _runner(app, member.runner_id)
    assert mine.units == "mi"
    assert mine.preferences["availability"]["monday"] == ["05:00-06:00"]
    exported = json.loads(other.client.get("/settings/export.json").data)
    assert exported["account"]["email"] == other.email
    assert other.post("/settings/delete", {"confirm": member.email}).status_code == 400
    assert _runner(app, member.runner_id).units == "mi"
