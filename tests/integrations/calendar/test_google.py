"""The Google Calendar client through google-api-python-client against the fake Google."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.calendar.google import (
    HASH_KEY,
    UID_KEY,
    ChangeResult,
    EventChange,
    GoogleCalendar,
    SyncTokenExpired,
    event_id_for,
)
from integrations.errors import AuthExpired, NotFound, RateLimited, UpstreamError
from integrations.http import new_session
from integrations.types import CalendarEvent
from tests.fakes.google import FakeGoogle

BERLIN = "Europe/Berlin"
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=ZoneInfo(BERLIN))
BATCHES = "^/batch/calendar/v3$"
EVENTS = r"/events$"
ID_RULE = re.compile(r"[a-v0-9]{5,1024}")


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    """The fake Google on a loopback port, for one test."""
    google = FakeGoogle().start()
    yield google
    google.stop()


@pytest.fixture
def waits() -> list[float]:
    """The backoff waits the client asked for (recorded instead of slept)."""
    return []


@pytest.fixture
def gcal(fake: FakeGoogle, waits: list[float]) -> GoogleCalendar:
    return GoogleCalendar(
        access_token=fake.issue_token().access_token,
        api_root=fake.url,
        session=new_session(),
        num_retries=3,
        sleep=waits.append,
    )


@pytest.fixture
def calendar_id(gcal: GoogleCalendar) -> str:
    return gcal.create_calendar("runstrength", BERLIN)


def session_event(
    n: int, *, start: datetime = MONDAY, title: str = "Upper body A"
) -> CalendarEvent:
    begin = start + timedelta(days=n)
    return CalendarEvent(
        uid=f"session-{n}@runstrength",
        start=begin,
        end=begin + timedelta(minutes=45),
        summary=title,
        description=f"Session {n}\nPush-ups 3x10",
        categories=("upper_body",),
        revised=datetime(2026, 3, 1, tzinfo=UTC),
    )


def change(op: str, event: CalendarEvent, *, hash_: str = "h1", reminder: int = 15) -> EventChange:
    return EventChange(
        op=op,  # type: ignore[arg-type]
        event_id=event_id_for(event.uid),
        event=None if op == "delete" else event,
        timezone=BERLIN,
        reminder_minutes=reminder,
        content_hash=hash_,
    )


def all_ok(results: list[ChangeResult]) -> bool:
    return all(result.ok for result in results)


# -- event ids ---------------------------------------------------------------------------


@given(st.text())
def test_every_uid_gives_an_event_id_google_accepts(uid: str) -> None:
    assert ID_RULE.fullmatch(event_id_for(uid))
    assert event_id_for(uid) == event_id_for(uid)


@given(st.text(), st.text())
def test_distinct_uids_give_distinct_event_ids(first: str, second: str) -> None:
    if first != second:
        assert event_id_for(first) != event_id_for(second)


# -- the calendar ------------------------------------------------------------------------


def test_a_created_calendar_has_our_name_and_the_runners_time_zone(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    stored = fake.calendars[calendar_id]
    assert (stored["summary"], stored["timeZone"]) == ("runstrength", BERLIN)
    assert gcal.calendar_exists(calendar_id)


def test_a_deleted_calendar_no_longer_exists_and_deleting_it_again_is_fine(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    gcal.delete_calendar(calendar_id)
    assert calendar_id not in fake.calendars
    assert not gcal.calendar_exists(calendar_id)
    gcal.delete_calendar(calendar_id)


def test_a_500_on_a_single_call_is_retried_after_a_recorded_backoff(
    fake: FakeGoogle, gcal: GoogleCalendar, waits: list[float]
) -> None:
    fake.fail(500, method="POST", path="^/calendar/v3/calendars$")
    calendar_id = gcal.create_calendar("runstrength", BERLIN)
    assert calendar_id in fake.calendars
    assert len(waits) == 1


def test_an_expired_access_token_is_auth_expired(fake: FakeGoogle, gcal: GoogleCalendar) -> None:
    fake.expire_access_tokens()
    with pytest.raises(AuthExpired):
        gcal.create_calendar("runstrength", BERLIN)


# -- writing events ----------------------------------------------------------------------


def test_an_inserted_event_carries_times_text_our_uid_and_hash_and_a_popup_reminder(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    event = session_event(0)
    results = gcal.apply(calendar_id, [change("insert", event, hash_="abc", reminder=30)])
    assert results == [ChangeResult(event_id_for(event.uid), "insert", ok=True)]
    stored = fake.event(calendar_id, event_id_for(event.uid))
    assert stored is not None
    assert (stored["summary"], stored["description"]) == (event.summary, event.description)
    assert datetime.fromisoformat(stored["start"]["dateTime"]) == event.start
    assert datetime.fromisoformat(stored["end"]["dateTime"]) == event.end
    assert stored["start"]["timeZone"] == BERLIN
    assert stored["extendedProperties"]["private"] == {UID_KEY: event.uid, HASH_KEY: "abc"}
    assert stored["reminders"] == {
        "useDefault": False,
        "overrides": [{"method": "popup", "minutes": 30}],
    }


def test_120_changes_go_out_in_exactly_3_batch_requests(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.clear_log()
    results = gcal.apply(calendar_id, [change("insert", session_event(n)) for n in range(120)])
    assert len(results) == 120
    assert all_ok(results)
    assert fake.count("POST", BATCHES) == 3
    assert fake.count() == 3
    assert len(fake.events(calendar_id)) == 120


def test_results_come_back_in_the_order_of_the_changes(
    gcal: GoogleCalendar, calendar_id: str
) -> None:
    events = [session_event(n) for n in range(3)]
    gcal.apply(calendar_id, [change("insert", e) for e in events])
    changes = [change("delete", events[2]), change("patch", events[0]), change("delete", events[1])]
    results = gcal.apply(calendar_id, changes)
    assert [(r.event_id, r.op) for r in results] == [(c.event_id, c.op) for c in changes]


def test_a_patch_moves_the_event_and_keeps_its_id(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    event = session_event(0)
    gcal.apply(calendar_id, [change("insert", event)])
    moved = session_event(0, start=MONDAY + timedelta(hours=1), title="Upper body B")
    assert all_ok(gcal.apply(calendar_id, [change("patch", moved, hash_="h2")]))
    [stored] = fake.events(calendar_id)
    assert stored["id"] == event_id_for(event.uid)
    assert stored["summary"] == "Upper body B"
    assert datetime.fromisoformat(stored["start"]["dateTime"]) == moved.start
    assert stored["extendedProperties"]["private"][HASH_KEY] == "h2"


def test_an_insert_whose_id_exists_already_is_settled_without_a_duplicate(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    event = session_event(0)
    gcal.apply(calendar_id, [change("insert", event)])  # as if we crashed before recording it
    fake.clear_log()
    assert all_ok(gcal.apply(calendar_id, [change("insert", event)]))
    assert len(fake.events(calendar_id, include_cancelled=True)) == 1
    assert fake.count("PATCH", EVENTS[:-1], inner=True) == 0  # identical: nothing to patch
    assert fake.count("GET", inner=True) == 1


def test_an_insert_over_a_different_version_patches_it(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    gcal.apply(calendar_id, [change("insert", session_event(0), hash_="old")])
    newer = session_event(0, title="Core circuit")
    assert all_ok(gcal.apply(calendar_id, [change("insert", newer, hash_="new")]))
    [stored] = fake.events(calendar_id)
    assert stored["summary"] == "Core circuit"
    assert stored["extendedProperties"]["private"][HASH_KEY] == "new"


def test_an_insert_over_an_event_deleted_in_google_brings_it_back(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    event = session_event(0)
    gcal.apply(calendar_id, [change("insert", event)])
    fake.delete_event(calendar_id, event_id_for(event.uid))
    assert all_ok(gcal.apply(calendar_id, [change("insert", event)]))
    [stored] = fake.events(calendar_id, include_cancelled=True)
    assert stored["status"] == "confirmed"


def test_a_patch_of_an_event_that_is_missing_inserts_it(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    event = session_event(0)
    assert all_ok(gcal.apply(calendar_id, [change("patch", event)]))
    assert [e["id"] for e in fake.events(calendar_id)] == [event_id_for(event.uid)]


def test_deleting_an_event_that_is_missing_or_already_deleted_is_ok(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    kept, gone = session_event(0), session_event(1)
    gcal.apply(calendar_id, [change("insert", kept)])
    results = gcal.apply(calendar_id, [change("delete", kept), change("delete", gone)])
    assert all_ok(results)
    assert all_ok(gcal.apply(calendar_id, [change("delete", kept)]))  # now 410 deleted
    assert fake.events(calendar_id) == []


def test_a_500_in_a_batch_is_retried_in_a_second_batch(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str, waits: list[float]
) -> None:
    fake.clear_log()
    fake.fail(500, method="POST", path=EVENTS, inner=True)
    results = gcal.apply(calendar_id, [change("insert", session_event(n)) for n in range(3)])
    assert all_ok(results)
    assert fake.count("POST", BATCHES) == 2
    assert fake.count("POST", EVENTS, inner=True) == 4
    assert len(waits) == 1
    assert len(fake.events(calendar_id)) == 3


def test_a_failed_batch_request_is_sent_again(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.clear_log()
    fake.fail(503, path=BATCHES, inner=False)
    assert all_ok(gcal.apply(calendar_id, [change("insert", session_event(0))]))
    assert fake.count("POST", BATCHES) == 2


def test_a_rate_limit_that_outlasts_the_retries_is_rate_limited_without_sleeping(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str, waits: list[float]
) -> None:
    fake.fail(429, method="POST", path=EVENTS, inner=True, times=4, retry_after=30)
    with pytest.raises(RateLimited) as limited:
        gcal.apply(calendar_id, [change("insert", session_event(0))])
    assert limited.value.retry_after == 30
    assert fake.count("POST", EVENTS, inner=True) == 4
    assert len(waits) == 3


def test_a_rate_limit_403_is_retried_like_a_429(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.fail(403, method="POST", path=EVENTS, inner=True, reason="userRateLimitExceeded")
    assert all_ok(gcal.apply(calendar_id, [change("insert", session_event(0))]))
    assert len(fake.events(calendar_id)) == 1


def test_5xx_answers_that_outlast_the_retries_are_an_upstream_error(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.fail(503, path=BATCHES, inner=False, times=4)
    with pytest.raises(UpstreamError):
        gcal.apply(calendar_id, [change("insert", session_event(0))])


def test_a_refused_call_is_reported_in_its_result_and_the_others_go_through(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.fail(400, method="POST", path=EVENTS, inner=True, reason="invalid", message="Bad time")
    results = gcal.apply(calendar_id, [change("insert", session_event(n)) for n in range(2)])
    assert [r.ok for r in results] == [False, True]
    assert results[0].error is not None
    assert "Bad time" in results[0].error


def test_writing_to_a_calendar_the_runner_deleted_is_not_found(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.delete_calendar(calendar_id)
    with pytest.raises(NotFound):
        gcal.apply(calendar_id, [change("insert", session_event(0))])
    assert not gcal.calendar_exists(calendar_id)


def test_a_revoked_grant_during_a_batch_is_auth_expired(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.revoke_grants()
    with pytest.raises(AuthExpired):
        gcal.apply(calendar_id, [change("insert", session_event(0))])


# -- reading changes back ----------------------------------------------------------------


def test_a_full_listing_then_incremental_sync_sees_the_runners_move_and_delete(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    moved, deleted = session_event(0), session_event(1)
    gcal.apply(calendar_id, [change("insert", moved), change("insert", deleted, hash_="h9")])
    listed, token = gcal.changes_since(calendar_id, None)
    assert {(c.uid, c.content_hash, c.cancelled) for c in listed} == {
        (moved.uid, "h1", False),
        (deleted.uid, "h9", False),
    }
    assert {c.event_id: c.start for c in listed}[event_id_for(moved.uid)] == moved.start
    new_start = moved.start + timedelta(hours=2)
    fake.move_event(calendar_id, event_id_for(moved.uid), new_start)
    fake.delete_event(calendar_id, event_id_for(deleted.uid))
    changed, token = gcal.changes_since(calendar_id, token)
    by_id = {c.event_id: c for c in changed}
    assert set(by_id) == {event_id_for(moved.uid), event_id_for(deleted.uid)}
    assert by_id[event_id_for(moved.uid)].start == new_start
    assert by_id[event_id_for(moved.uid)].end == new_start + timedelta(minutes=45)
    assert by_id[event_id_for(deleted.uid)].cancelled
    assert gcal.changes_since(calendar_id, token)[0] == []


def test_a_full_listing_includes_deleted_events_and_follows_pages(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    events = [session_event(n) for n in range(300)]  # the fake pages at 250 like Google
    gcal.apply(calendar_id, [change("insert", e) for e in events])
    fake.delete_event(calendar_id, event_id_for(events[0].uid))
    listed, _ = gcal.changes_since(calendar_id, None)
    assert len(listed) == 300
    assert [c.event_id for c in listed if c.cancelled] == [event_id_for(events[0].uid)]
    assert fake.count("GET", EVENTS) == 2


def test_an_expired_sync_token_asks_for_a_full_listing(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    _, token = gcal.changes_since(calendar_id, None)
    fake.expire_sync_tokens()
    with pytest.raises(SyncTokenExpired):
        gcal.changes_since(calendar_id, token)


def test_listing_a_calendar_the_runner_deleted_is_not_found(
    fake: FakeGoogle, gcal: GoogleCalendar, calendar_id: str
) -> None:
    fake.delete_calendar(calendar_id)
    with pytest.raises(NotFound):
        gcal.changes_since(calendar_id, None)
