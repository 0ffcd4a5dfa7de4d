"""The private feed over HTTP, on SQLite and PostgreSQL, checked by independent parsers."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy import select, text

from service.app import runtime
from service.models import Runner
from service.planning.model import OverrideAction
from service.preferences import parse_preferences
from service.usecases import publish_plan
from service.usecases.feeds import rotate_feed
from service.usecases.overrides import apply_override
from service.usecases.runners import default_runner, store_preferences
from service.web import feedcache
from tests.radicale import Radicale
from tests.service.web.conftest import Feeds

TODAY = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).date()


def _events(body: bytes) -> dict[str, Any]:
    calendar = vobject.readOne(body.decode("utf-8"), validate=True)
    calendar.validate(raiseException=True)
    return {event.uid.value: event for event in calendar.vevent_list}


def test_the_feed_is_served_as_a_calendar_that_independent_parsers_accept(feeds: Feeds) -> None:
    response = feeds.get()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "Accept" not in response.headers.get("Vary", "").replace("Accept-Encoding", "")
    events = _events(response.data)
    assert len(events) >= 10  # seven weeks of sessions
    parsed = icalendar.Calendar.from_ical(response.data)
    assert parsed.errors == []
    assert all(event.errors == [] for event in parsed.walk("VEVENT"))
    some = next(iter(events.values()))
    assert some.summary.value.endswith(" min")
    assert "Why here:" in some.description.value
    assert some.dtstart.value.tzinfo is not None


def test_radicale_accepts_the_feed_and_returns_every_event(
    feeds: Feeds, radicale: Radicale
) -> None:
    body = feeds.get().data
    path, status = radicale.put_feed(body)
    assert 200 <= status < 300
    for uid in _events(body):
        status, stored = radicale.request("GET", f"{path}{uid}.ics")
        assert status == 200, uid
        assert uid in _events(stored)


def test_an_unchanged_plan_gives_the_same_bytes_and_etag_even_when_rendered_again(
    feeds: Feeds,
) -> None:
    first = feeds.get()
    with runtime(feeds.app).db.session() as db:
        db.execute(text("DELETE FROM feed_renders"))  # force a fresh render
    feeds.clock.now += timedelta(minutes=30)  # a later poll, same day
    second = feeds.get()
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]


def test_moving_a_session_keeps_its_uid_and_raises_its_sequence(feeds: Feeds) -> None:
    before = _events(feeds.get().data)
    uid, event = next((u, e) for u, e in before.items() if e.dtstart.value.date() > TODAY)
    new_start = event.dtstart.value + timedelta(hours=1)
    feeds.clock.now += timedelta(hours=1)
    rt = runtime(feeds.app)
    with rt.db.session() as db:
        runner = default_runner(db)
        local = new_start.astimezone(ZoneInfo(runner.timezone))
        apply_override(db, runner, uid, OverrideAction.MOVE, today=TODAY, start=local)
    response = feeds.get()
    after = _events(response.data)
    assert set(after) == set(before)
    assert after[uid].dtstart.value == new_start
    assert int(after[uid].sequence.value) == int(before[uid].sequence.value) + 1
    assert after[uid].dtstamp.value > before[uid].dtstamp.value
    unchanged = [
        u for u in before if u != uid and after[u].dtstart.value == before[u].dtstart.value
    ]
    assert all(after[u].dtstamp.value == before[u].dtstamp.value for u in unchanged)


def test_a_skipped_session_simply_leaves_the_feed(feeds: Feeds) -> None:
    before = _events(feeds.get().data)
    uid = next(u for u, e in before.items() if e.dtstart.value.date() > TODAY)
    with runtime(feeds.app).db.session() as db:
        apply_override(db, default_runner(db), uid, OverrideAction.SKIP, today=TODAY)
    assert set(_events(feeds.get().data)) == set(before) - {uid}


def test_a_matching_etag_gets_304_and_if_none_match_wins_over_if_modified_since(
    feeds: Feeds,
) -> None:
    first = feeds.get()
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert feeds.get(**{"If-None-Match": etag}).status_code == 304
    assert feeds.get(**{"If-None-Match": f'"other", {etag}'}).status_code == 304
    stale = {"If-None-Match": '"other"', "If-Modified-Since": modified}
    assert feeds.get(**stale).status_code == 200


def test_if_modified_since_compares_dates(feeds: Feeds) -> None:
    modified = feeds.get().headers["Last-Modified"]
    assert feeds.get(**{"If-Modified-Since": modified}).status_code == 304
    later = format_datetime(datetime(2030, 1, 1, tzinfo=UTC), usegmt=True)
    assert feeds.get(**{"If-Modified-Since": later}).status_code == 304
    earlier = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert feeds.get(**{"If-Modified-Since": earlier}).status_code == 200
    assert feeds.get(**{"If-Modified-Since": "not a date"}).status_code == 200


def test_head_answers_with_the_headers_and_no_body(feeds: Feeds) -> None:
    got, head = feeds.get(), feeds.client.head(feeds.full)
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == got.headers["ETag"]


def test_gzip_is_served_to_clients_that_accept_it(feeds: Feeds) -> None:
    plain = feeds.get()
    zipped = feeds.get(**{"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    again = feeds.get(**{"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304


def test_rotating_the_token_kills_the_old_url_at_once(feeds: Feeds) -> None:
    assert feeds.get().status_code == 200
    rt = runtime(feeds.app)
    with rt.db.session() as db:
        token = rotate_feed(db, default_runner(db), rt.secret)
    assert feeds.get().status_code == 404
    assert feeds.get(f"/feeds/{token}.ics").status_code == 200


def test_unknown_and_malformed_tokens_get_the_same_404(feeds: Feeds) -> None:
    unknown = feeds.get("/feeds/" + "a" * 32 + ".ics")
    malformed = feeds.get("/feeds/../../etc/passwd.ics")
    assert unknown.status_code == malformed.status_code == 404
    assert feeds.get("/feeds/" + "b" * 32 + "-busy.ics").data == unknown.data


def test_the_token_is_never_stored(feeds: Feeds) -> None:
    token = feeds.full.rsplit("/", 1)[1].removesuffix(".ics")
    with runtime(feeds.app).db.session() as db:
        dumped = " ".join(str(v) for row in db.execute(text("SELECT * FROM feeds")) for v in row)
        assert token not in dumped
        assert len(token) == 32


def test_the_busy_feed_leaks_no_exercise_or_runner_detail(feeds: Feeds) -> None:
    full, busy = feeds.get().data, feeds.get(feeds.busy).data
    assert set(_events(busy)) == set(_events(full))
    text_busy = busy.decode("utf-8")
    for leak in ("Bench", "Crunches", "Why here", "Europe/Berlin", "#session-", "Upper body"):
        assert leak not in text_busy
    assert all(e.summary.value == "Busy" for e in _events(busy).values())


def test_a_poll_serves_the_cached_render_without_planning_again(
    feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = feeds.get().data

    def no_render(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("rendered again")

    monkeypatch.setattr(publish_plan, "render_feed", no_render)
    assert feeds.get().data == first


def test_a_change_to_the_plan_inputs_invalidates_the_cache(feeds: Feeds) -> None:
    first = _events(feeds.get().data)
    with runtime(feeds.app).db.session() as db:
        runner = db.scalars(select(Runner)).one()
        store_preferences(db, runner, parse_preferences({"equipment": ["none"]}, base=None))
    assert _events(feeds.get().data) != first


def test_the_feed_stays_under_the_size_limit_by_dropping_the_oldest_events(
    feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = feeds.get().data
    monkeypatch.setattr(publish_plan, "MAX_FEED_BYTES", len(whole) // 2)
    with runtime(feeds.app).db.session() as db:
        db.execute(text("DELETE FROM feed_renders"))
    trimmed = feeds.get().data
    assert len(trimmed) <= len(whole) // 2
    kept, all_events = _events(trimmed), _events(whole)
    assert kept
    oldest_kept = min(e.dtstart.value for e in kept.values())
    dropped = set(all_events) - set(kept)
    assert dropped
    assert all(all_events[u].dtstart.value <= oldest_kept for u in dropped)


def test_a_process_that_never_saw_the_bytes_still_answers_from_the_stored_render(
    feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = feeds.get()
    feedcache.install(
        feeds.app, runtime(feeds.app).db, runtime(feeds.app).settings
    )  # a fresh worker: nothing remembered
    etag = first.headers["ETag"]
    assert feeds.get(**{"If-None-Match": etag}).status_code == 304
    again = feeds.get()
    assert (again.status_code, again.data, again.headers["ETag"]) == (200, first.data, etag)
