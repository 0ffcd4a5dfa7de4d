"""The runner's page: chart, this week's sessions, subscribe links and friendly errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from flask import Flask
from lxml.html import HtmlElement

from service.app import runtime
from service.plan_view import kind_name
from service.planning.model import OverrideAction
from service.usecases.overrides import apply_override
from service.usecases.runners import RunnerChange, default_runner, update_runner
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


@pytest.fixture
def app(single_app: Flask) -> Flask:
    """These tests read the single runner of a personal install, with no sign-in."""
    return single_app


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


def _week(page: HtmlElement, start: str = "2026-11-16") -> HtmlElement:
    found: HtmlElement = page.get_element_by_id(f"week-{start}")
    return found


def test_every_session_of_the_week_shows_its_time_length_and_title_and_links_to_it(
    sample_app: Flask,
) -> None:
    page = _page(sample_app)
    week = _plan(sample_app)["weeks"][0]
    assert week["sessions"]
    for session in week["sessions"]:
        element = page.get_element_by_id(f"session-{session['uid']}")
        text = _text(element)
        assert session["title"] in text
        assert f"{session['start'][11:16]}\N{EN DASH}{session['end'][11:16]}" in text
        assert f"{session['duration_min']} min" in text
        assert element.xpath(".//a/@href") == [f"/sessions/{session['uid']}"]


def test_this_week_and_next_are_listed_day_by_day_with_their_runs(sample_app: Flask) -> None:
    page = _page(sample_app)
    days = _week(page).xpath('.//ol[@class="days"]/li')
    assert len(days) == 7
    assert "Monday 16 Nov" in _text(days[0])
    assert "today" in (days[6].get("class") or "")
    assert "Long run, about" in _text(days[6])
    assert any(", ran " in _text(day) for day in days[:6])
    following = _week(page, "2026-11-23").xpath('.//ol[@class="days"]/li')
    assert _text(following[0].xpath("./h3")[0]) == "Monday 23 Nov"
    assert len(following) == 7
    assert "Next week" in _text(_week(page, "2026-11-23").xpath(".//h2")[0])
    next_sessions = _plan_weeks(sample_app, 2)[1]["sessions"]
    assert next_sessions
    for session in next_sessions:
        assert page.get_element_by_id(f"session-{session['uid']}") is not None


def _plan_weeks(app: Flask, weeks: int) -> Any:
    return app.test_client().get(f"/api/v1/plan?today={TODAY}&weeks={weeks}").get_json()["weeks"]


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
    items = [_text(li) for li in _week(page).xpath('.//ul[@class="skipped"]/li')]
    told = f"{kind_name(skipped[0]['kind'])}: {skipped[0]['reason']} (runner-skipped)"
    assert [item.removesuffix(" open") for item in items] == [told]


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
    assert page.xpath("//script") == []  # the dashboard needs no JavaScript
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
