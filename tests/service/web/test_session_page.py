"""The session page: what a session holds and why, and moving, skipping, locking and restoring
it through plain forms (conflicts shown before saving), for the signed-in runner only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import pytest
from flask import Flask
from lxml.html import HtmlElement

from service.app import runtime
from service.models import Runner
from service.plan_view import exercise_line
from service.planning.model import Exercise
from service.usecases.feeds import feed_links
from tests.service.web.conftest import Member
from tests.service.web.session_data import (
    FRIDAY_17,
    SATURDAY_10,
    Q,
    Week,
    give_runs,
    ics_event,
    plan_week,
    stored_overrides,
)

RULE_2 = "rule-2-day-before-long-run"


@pytest.fixture
def week(app: Flask, member: Member, data_dir: Path) -> Week:
    return give_runs(app, member, data_dir)


def _page(member: Member, path: str, status: int = 200) -> HtmlElement:
    response = member.client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _flash(page: HtmlElement) -> str:
    return " ".join(_text(p) for p in page.xpath('//div[@class="flash"]/p'))


def _follow(member: Member, response: Any) -> HtmlElement:
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return _page(member, response.headers["Location"])


def _line(e: dict[str, Any]) -> str:
    keys = ("reps", "hold_s", "minutes")
    return exercise_line(Exercise(e["name"], e["sets"], **{k: e.get(k) for k in keys}))


def test_the_page_shows_when_the_exercises_the_why_and_the_actions(
    member: Member, week: Week
) -> None:
    session = week.of_kind("upper_body")
    page = _page(member, f"/sessions/{session['uid']}?{Q}")
    assert _text(page.xpath("//h1")[0]) == session["title"]
    when = _text(page.xpath('//p[@class="when"]')[0])
    start = datetime.fromisoformat(session["start"])
    assert f"{start:%A %-d %B}" in when
    assert f"{start:%H:%M}" in when
    assert f"{session['duration_min']} min" in when
    items = [_text(li) for li in page.xpath('//ul[@class="exercises"]/li')]
    assert items == [_line(e) for e in session["exercises"]]
    assert _text(page.xpath('//p[@class="why"]')[0]) == session["why"]
    assert "Planned by runstrength" in _text(page)
    buttons = [_text(b) for b in page.xpath("//form/button")]
    assert "Skip it" in buttons
    assert "Lock it here" in buttons
    assert not any("Restore" in b for b in buttons)  # nothing to undo yet


def test_an_unknown_session_gets_the_friendly_404_page(member: Member, week: Week) -> None:
    page = _page(member, f"/sessions/nosuchsession?{Q}", status=404)
    assert "Nothing here" in _text(page)


def test_the_slot_list_offers_the_week_and_marks_the_day_that_breaks_a_rule(
    member: Member, week: Week
) -> None:
    session = week.of_kind("upper_body")
    page = _page(member, f"/sessions/{session['uid']}/move?{Q}")
    values = page.xpath('//input[@type="radio"][@name="to"]/@value')
    assert values
    assert all("2026-11-23" <= v[:10] <= "2026-11-29" for v in values)
    saturday = page.xpath('//fieldset[legend[contains(., "Saturday 28 November")]]')[0]
    assert "breaks" in saturday.get("class")
    assert RULE_2 in _text(saturday)
    assert "long run" in _text(saturday)
    friday = page.xpath('//fieldset[legend[contains(., "Friday 27 November")]]')[0]
    assert "breaks" not in friday.get("class")
    assert "17:00\u201317:40" in _text(friday)  # each slot shows the session's length


def test_a_move_onto_the_day_before_the_long_run_is_explained_before_it_is_stored(
    app: Flask, member: Member, week: Week
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    page = _page(member, f"/sessions/{uid}/move?{Q}&to=2026-11-28T10:00")
    alert = _text(page.xpath('//div[@role="alert"]')[0])
    assert RULE_2 in alert
    assert "The next day is your long run" in alert
    assert stored_overrides(app, member.runner_id) == 0  # the preview stored nothing
    to = page.xpath('//form[@method="post"]/input[@name="to"]/@value')[0]
    assert datetime.fromisoformat(to) == SATURDAY_10

    done = _follow(member, member.post(f"/sessions/{uid}/move?{Q}", {"to": to}))
    assert "Moved to Saturday 28 November, 10:00" in _flash(done)
    assert RULE_2 in _text(done.xpath('//div[@class="rule-breaks"]')[0])
    assert "Moved by you" in _text(done)


def test_a_move_through_the_form_keeps_the_uid_and_raises_the_feed_sequence(
    app: Flask, member: Member, week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.web.feeds.utcnow", lambda: datetime(2026, 11, 22, 12, tzinfo=UTC))
    rt = runtime(app)
    with rt.db.session() as db:
        runner = db.get(Runner, member.runner_id)
        assert runner is not None
        feed = urlsplit(feed_links(db, runner, rt.settings, rt.secret).https).path
    uid = week.of_kind("upper_body")["uid"]
    before = ics_event(member.client.get(feed).get_data(as_text=True), uid)

    response = member.post(f"/sessions/{uid}/move?{Q}", {"to": "2026-11-27T17:00"})
    assert response.status_code == 303
    after = ics_event(member.client.get(feed).get_data(as_text=True), uid)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after["DTSTART"] == "20261127T160000Z"  # 17:00 in Berlin
    assert after["DTSTART"] != before["DTSTART"]
    moved = next(s for s in plan_week(member) if s["uid"] == uid)
    assert datetime.fromisoformat(moved["start"]) == FRIDAY_17


def test_a_skipped_session_can_be_restored(app: Flask, member: Member, week: Week) -> None:
    session = week.of_kind("core")
    uid = session["uid"]
    skipped = _follow(member, member.post(f"/sessions/{uid}/skip?{Q}"))
    assert _flash(skipped).startswith("Skipped")
    assert "Skipped by you" in _text(skipped)
    assert uid not in [s["uid"] for s in plan_week(member)]
    assert [_text(li) for li in skipped.xpath('//ul[@class="exercises"]/li')]  # still shown

    restored = _follow(member, member.post(f"/sessions/{uid}/restore?{Q}"))
    assert "Back to runstrength's choice" in _flash(restored)
    assert "Planned by runstrength" in _text(restored)
    assert stored_overrides(app, member.runner_id) == 0
    back = next(s for s in plan_week(member) if s["uid"] == uid)
    assert back["start"] == session["start"]


def test_a_locked_session_stays_put_and_can_be_restored(member: Member, week: Week) -> None:
    session = week.of_kind("cross_training")
    page = _follow(member, member.post(f"/sessions/{session['uid']}/lock?{Q}"))
    assert "Locked" in _flash(page)
    assert "Locked by you" in _text(page)
    buttons = [_text(b) for b in page.xpath("//form/button")]
    assert "Lock it here" not in buttons
    assert "Restore runstrength's choice" in buttons
    locked = next(s for s in plan_week(member) if s["uid"] == session["uid"])
    assert (locked["start"], locked["override"]) == (session["start"], "lock")


def test_restoring_an_untouched_session_says_there_is_nothing_to_restore(
    member: Member, week: Week
) -> None:
    uid = week.of_kind("core")["uid"]
    page = _follow(member, member.post(f"/sessions/{uid}/restore?{Q}"))
    assert "nothing to restore" in _flash(page)


@pytest.mark.parametrize(
    ("to", "says"),
    [
        ("next friday", "expected a date and time like"),
        ("2026-11-31T18:00", "is not a real date and time"),
        ("2026-12-04T18:00", "a session stays in its own week"),
        ("", "expected a date and time like"),
    ],
)
def test_a_bad_time_is_refused_next_to_the_field_and_nothing_is_stored(
    app: Flask, member: Member, week: Week, to: str, says: str
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    response = member.post(f"/sessions/{uid}/move?{Q}", {"to": to})
    assert response.status_code == 400
    page: HtmlElement = lxml.html.fromstring(response.get_data(as_text=True))
    assert says in _text(page.get_element_by_id("to-error"))
    field = page.get_element_by_id("to-other")
    assert field.get("aria-describedby") == "to-error"
    assert field.get("aria-invalid") == "true"
    assert stored_overrides(app, member.runner_id) == 0


def test_a_form_post_without_its_csrf_token_is_refused(
    app: Flask, member: Member, week: Week
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    response = member.client.post(f"/sessions/{uid}/skip?{Q}")
    assert response.status_code == 400
    assert stored_overrides(app, member.runner_id) == 0


def test_a_bad_today_is_a_400_naming_it(member: Member, week: Week) -> None:
    uid = week.of_kind("upper_body")["uid"]
    page = _page(member, f"/sessions/{uid}?today=someday", status=400)
    assert "today" in _text(page)


def test_another_runner_gets_404_on_every_session_page_and_action(
    app: Flask, member: Member, other: Member, week: Week
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    for path in (f"/sessions/{uid}", f"/sessions/{uid}/move", f"/sessions/{uid}/move?to=x"):
        sep = "&" if "?" in path else "?"
        assert other.client.get(f"{path}{sep}{Q}").status_code == 404, path
    for action in ("move", "skip", "lock", "restore"):
        response = other.post(f"/sessions/{uid}/{action}?{Q}", {"to": "2026-11-27T17:00"})
        assert response.status_code == 404, action
    assert stored_overrides(app, member.runner_id) == 0
    assert stored_overrides(app, other.runner_id) == 0
    assert member.client.get(f"/sessions/{uid}?{Q}").status_code == 200
