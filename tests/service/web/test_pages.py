"""The runner's page: chart, this week's sessions, subscribe links and friendly errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from flask import Flask
from lxml.html import HtmlElement

from service.app import runtime
from service.planning.model import OverrideAction
from service.usecases.feeds import feed_links
from service.usecases.overrides import apply_override
from service.usecases.runners import RunnerChange, default_runner, update_runner
from service.web.pages import KIND_NAMES
from tests.service.web.conftest import TODAY

SVG = "{http://www.w3.org/2000/svg}"


def _page(app: Flask, path: str = f"/?today={TODAY}", status: int = 200) -> HtmlElement:
    response = app.test_client().get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _plan(app: Flask) -> Any:
    return app.test_client().get(f"/api/v1/plan?today={TODAY}").get_json()


def _chart(page: HtmlElement) -> HtmlElement:
    charts = page.xpath('//svg[contains(@class, "chart")]')
    assert len(charts) == 1
    chart: HtmlElement = charts[0]
    return chart


def test_the_chart_has_a_bar_for_each_of_the_last_12_weeks(sample_app: Flask) -> None:
    chart = _chart(_page(sample_app))
    bars = chart.xpath('.//rect[contains(concat(" ", @class, " "), " bar ")]')
    assert len(bars) == 12
    assert len(chart.xpath('.//rect[contains(@class, "bar-now")]')) == 1
    assert chart.get("role") == "img"
    assert _text(chart.xpath("./title")[0]) == "Weekly running distance in km, last 12 weeks"
    tips = [_text(bar.xpath("./title")[0]) for bar in bars]
    assert tips[0].startswith("Week of 31 Aug: 42.6 km in 5 runs")
    assert tips[-1].startswith("Week of 16 Nov:")
    assert "so far" in tips[-1]


def test_the_chart_and_averages_speak_the_runner_s_units(sample_app: Flask) -> None:
    rt = runtime(sample_app)
    with rt.db.session() as db:
        update_runner(db, default_runner(db), RunnerChange(units="mi"))
    page = _page(sample_app)
    assert "in mi" in _text(_chart(page).xpath("./title")[0])
    mileage = _text(page.get_element_by_id("mileage"))
    assert "mi a week" in mileage
    assert "Your load ratio is 0.86" in mileage
    assert "steady" in mileage


def test_every_session_of_the_week_shows_its_time_exercises_and_why(sample_app: Flask) -> None:
    page = _page(sample_app)
    week = _plan(sample_app)["weeks"][0]
    assert week["sessions"]
    for session in week["sessions"]:
        element = page.get_element_by_id(f"session-{session['uid']}")
        text = _text(element)
        assert session["title"] in text
        assert f"{session['start'][11:16]}\N{EN DASH}{session['end'][11:16]}" in text
        assert session["why"] in text
        lines = [_text(li) for li in element.xpath('.//ul[@class="exercises"]/li')]
        assert len(lines) == len(session["exercises"])
        for line, exercise in zip(lines, session["exercises"], strict=True):
            assert line.startswith(f"{exercise['name']}: ")
            amount = exercise.get("reps") or exercise.get("hold_s") or exercise.get("minutes")
            assert str(amount) in line


def test_every_day_of_the_week_is_listed_with_its_run(sample_app: Flask) -> None:
    days = _page(sample_app).xpath('//ol[@class="days"]/li')
    assert len(days) == 7
    assert "Monday 16 Nov" in _text(days[0])
    assert "today" in (days[6].get("class") or "")
    assert "Long run" in _text(days[6])


def _override(app: Flask, uid: str, action: OverrideAction, start: datetime | None = None) -> None:
    rt = runtime(app)
    with rt.db.session() as db:
        apply_override(db, default_runner(db), uid, action, today=TODAY, start=start)


def test_a_skipped_session_is_listed_with_its_reason_instead_of_shown(sample_app: Flask) -> None:
    uid = _plan(sample_app)["weeks"][0]["sessions"][0]["uid"]
    _override(sample_app, uid, OverrideAction.SKIP)
    skipped = _plan(sample_app)["weeks"][0]["skipped"]
    assert [s["rule"] for s in skipped] == ["runner-skipped"]
    page = _page(sample_app)
    assert not page.xpath(f'//*[@id="session-{uid}"]')
    items = [_text(li) for li in page.xpath('//ul[@class="skipped"]/li')]
    assert items == [f"{KIND_NAMES[skipped[0]['kind']]}: {skipped[0]['reason']} (runner-skipped)"]


def test_a_session_moved_against_a_rule_stays_and_names_the_rule(sample_app: Flask) -> None:
    session = next(
        s for s in _plan(sample_app)["weeks"][0]["sessions"] if s["kind"] == "upper_body"
    )
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    _override(sample_app, session["uid"], OverrideAction.MOVE, saturday)
    conflicts = _plan(sample_app)["weeks"][0]["conflicts"]
    assert conflicts
    page = _page(sample_app)
    day = page.get_element_by_id(f"session-{session['uid']}").getparent()
    assert "Saturday 21 Nov" in _text(day)
    text = _text(page.xpath('//ul[contains(@class, "conflicts")]')[0])
    assert all(c["reason"] in text and c["rule"] in text for c in conflicts)


def test_the_subscribe_helpers_carry_the_runner_s_feed_links(sample_app: Flask) -> None:
    page = _page(sample_app)
    rt = runtime(sample_app)
    with rt.db.session() as db:
        links = feed_links(db, default_runner(db), rt.settings, rt.secret)
    assert page.get_element_by_id("subscribe-webcal").get("href") == links.webcal
    assert links.webcal.startswith("webcal://")
    google = page.get_element_by_id("subscribe-google").get("href")
    assert google == links.google
    assert parse_qs(urlsplit(google).query)["cid"] == [links.webcal]
    assert page.get_element_by_id("feed-url").get("value") == links.https
    assert page.get_element_by_id("busy-url").get("value") == links.busy_https
    qr = page.xpath('//section[@id="subscribe"]//svg[contains(@class, "qr")]')
    assert len(qr) == 1
    assert qr[0].xpath(".//path")
    notes = _text(page.get_element_by_id("subscribe"))
    assert "every 8 to 24 hours" in notes
    assert "ignores refresh hints" in notes
    assert "phone apps cannot add a feed by URL" in notes
    assert "Apple Calendar lets you choose" in notes
    assert "about every 3 hours" in notes


def test_the_page_holding_a_private_url_is_kept_out_of_caches_and_referrers(
    sample_app: Flask,
) -> None:
    response = sample_app.test_client().get(f"/?today={TODAY}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_runner_without_runs_sees_empty_bars_and_plain_words(app: Flask) -> None:
    page = _page(app)
    bars = _chart(page).xpath('.//rect[contains(concat(" ", @class, " "), " bar ")]')
    assert len(bars) == 12
    text = _text(page.get_element_by_id("mileage"))
    assert "no average yet" in text
    assert "no load ratio yet" in text


def test_the_page_uses_only_its_own_stylesheet(sample_app: Flask) -> None:
    page = _page(sample_app)
    assert page.xpath("//link[@rel='stylesheet']/@href") == ["/static/style.css"]
    assert not page.xpath("//script")
    css = sample_app.test_client().get("/static/style.css")
    assert css.status_code == 200
    assert b"http" not in css.data
    assert b"@import" not in css.data


def test_a_bad_today_gets_a_friendly_400_naming_it(app: Flask) -> None:
    page = _page(app, "/?today=yesterday", status=400)
    assert "today" in _text(page.xpath("//main")[0])


def test_an_unknown_page_gets_a_friendly_404(app: Flask) -> None:
    page = _page(app, "/no/such/page", status=404)
    assert _text(page.xpath("//h1")[0]) == "Nothing here"
    assert page.xpath("//main//a/@href") == ["/"]


def test_a_failure_gets_a_friendly_500_without_a_traceback(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("service.web.pages.mileage_report", broken)
    response = app.test_client().get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "on fire" not in body
    assert "Traceback" not in body


def test_a_page_ignores_query_parameters_it_does_not_know(sample_app: Flask) -> None:
    page = _page(sample_app, f"/?today={TODAY}&utm_source=newsletter")
    assert _chart(page) is not None
