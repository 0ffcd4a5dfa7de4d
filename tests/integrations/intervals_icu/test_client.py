"""The intervals.icu client against the fake: activities minus Strava stubs, plans, our events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from integrations.errors import AuthExpired, RateLimited, UpstreamError
from integrations.http import new_session
from integrations.intervals_icu.client import BULK_SIZE, IntervalsClient
from integrations.types import CalendarEvent, RunKind, Sport
from tests.fakes.intervals import FakeIntervals

MONDAY = date(2026, 5, 4)


def client_for(fake: FakeIntervals, *, key: str | None = None) -> IntervalsClient:
    return IntervalsClient(fake.api_key if key is None else key, fake.url, new_session(retries=0))


def session_event(
    uid: str, day: date, hour: int = 18, summary: str = "Upper body A"
) -> CalendarEvent:
    start = datetime.combine(day, time(hour - 2), tzinfo=UTC)  # Berlin summer: UTC+2
    return CalendarEvent(
        uid=uid,
        start=start,
        end=start + timedelta(minutes=40),
        summary=summary,
        description="Rows, presses, planks",
        categories=("upper_body",),
        revised=start,
    )


def test_activities_come_back_mapped_and_strava_stubs_are_listed_not_read(
    fake_intervals: FakeIntervals,
) -> None:
    run = fake_intervals.add_activity(datetime(2026, 5, 3, 8, 30), distance=12000.0)
    ride = fake_intervals.add_activity(datetime(2026, 5, 2, 7, 0), type="Ride", distance=4e4)
    stub = fake_intervals.add_strava_stub(datetime(2026, 5, 1, 18, 0))
    fake_intervals.add_activity(datetime(2026, 4, 20, 8, 0))  # before the range
    found = client_for(fake_intervals).activities(date(2026, 5, 1), date(2026, 5, 3))
    assert found.stubs == [stub["id"]]
    by_id = {a.source_id: a for a in found.activities}
    assert set(by_id) == {run["id"], ride["id"]}
    assert by_id[ride["id"]].sport is Sport.RIDE
    mapped = by_id[run["id"]]
    assert mapped.sport is Sport.RUN
    assert mapped.distance_m == 12000.0
    assert mapped.start_utc == datetime(2026, 5, 3, 6, 30, tzinfo=UTC)
    assert mapped.utc_offset_s == 7200
    logged = fake_intervals.requests("GET", "/activities$")[-1]
    assert (logged.arg("oldest"), logged.arg("newest")) == ("2026-05-01", "2026-05-03")
    assert logged.token == fake_intervals.api_key


def test_planned_runs_are_classified_for_the_planner(fake_intervals: FakeIntervals) -> None:
    fake_intervals.add_event(MONDAY, "Easy 40", moving_time=2400)
    fake_intervals.add_event(MONDAY + timedelta(1), "VO2 max 5x3min", moving_time=3600)
    fake_intervals.add_event(MONDAY + timedelta(2), "Spin", type="Ride", moving_time=3600)
    fake_intervals.add_event(MONDAY + timedelta(3), "Dentist", type=None, category="NOTE")
    fake_intervals.add_event(MONDAY + timedelta(6), "Sunday", moving_time=6600, distance=21000.0)
    runs = client_for(fake_intervals).planned_runs(MONDAY, MONDAY + timedelta(6))
    assert [(r.day.isoformat(), r.kind) for r in runs] == [
        ("2026-05-04", RunKind.EASY),
        ("2026-05-05", RunKind.HARD),
        ("2026-05-10", RunKind.LONG),
    ]
    assert runs[2].distance_m == 21000.0
    assert runs[2].duration_s == 6600


def test_upsert_creates_then_updates_our_events_by_uid(fake_intervals: FakeIntervals) -> None:
    client = client_for(fake_intervals)
    fake_intervals.add_event(MONDAY, "Easy 40")
    events = [session_event("rs-1", MONDAY + timedelta(1)), session_event("rs-2", MONDAY)]
    assert client.upsert_events(events, "Europe/Berlin") == 2
    moved = session_event("rs-1", MONDAY + timedelta(2), hour=7, summary="Upper body B")
    assert client.upsert_events([moved], "Europe/Berlin") == 1
    ours = {e["external_id"]: e for e in fake_intervals.events(by_app=True)}
    assert set(ours) == {"rs-1", "rs-2"}
    assert ours["rs-1"]["start_date_local"] == "2026-05-06T07:00:00"
    assert ours["rs-1"]["name"] == "Upper body B"
    assert ours["rs-1"]["moving_time"] == 40 * 60
    assert ours["rs-1"]["type"] == "WeightTraining"
    assert len(fake_intervals.events(by_app=False)) == 1  # the runner's own run is untouched


def test_many_events_go_in_bulk_chunks(fake_intervals: FakeIntervals) -> None:
    events = [
        session_event(f"rs-{n}", MONDAY + timedelta(days=n % 60)) for n in range(BULK_SIZE + 5)
    ]
    assert client_for(fake_intervals).upsert_events(events, "Europe/Berlin") == BULK_SIZE + 5
    assert fake_intervals.count("POST", "/events/bulk$") == 2
    assert len(fake_intervals.events(by_app=True)) == BULK_SIZE + 5


def test_delete_removes_only_our_events_by_uid(fake_intervals: FakeIntervals) -> None:
    client = client_for(fake_intervals)
    runner = fake_intervals.add_event(MONDAY, "Easy 40", external_id="rs-1")
    client.upsert_events([session_event("rs-1", MONDAY), session_event("rs-2", MONDAY)], "UTC")
    client.delete_events(["rs-1", "rs-unknown"])
    left = fake_intervals.events()
    assert sorted(e["external_id"] for e in left) == ["rs-1", "rs-2"]
    assert runner["id"] in {e["id"] for e in left}
    client.delete_events([])
    assert fake_intervals.count("PUT") == 1


def test_an_oauth_token_is_sent_as_a_bearer(fake_intervals: FakeIntervals) -> None:
    token = fake_intervals.issue_bearer_token()
    client = IntervalsClient(token, fake_intervals.url, new_session(), oauth=True)
    assert client.activities(MONDAY, MONDAY).activities == []
    assert fake_intervals.requests("GET")[-1].token == token


def test_a_wrong_key_means_reconnect(fake_intervals: FakeIntervals) -> None:
    with pytest.raises(AuthExpired):
        client_for(fake_intervals, key="not-the-key").activities(MONDAY, MONDAY)


@pytest.mark.parametrize(
    ("status", "error"), [(403, AuthExpired), (429, RateLimited), (500, UpstreamError)]
)
def test_errors_map_onto_ours(
    fake_intervals: FakeIntervals, status: int, error: type[Exception]
) -> None:
    fake_intervals.fail(status, retry_after=30)
    with pytest.raises(error) as raised:
        client_for(fake_intervals).planned_runs(MONDAY, MONDAY)
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 30


def test_an_unreachable_server_is_an_upstream_error(fake_intervals: FakeIntervals) -> None:
    client = client_for(fake_intervals)
    fake_intervals.stop()
    with pytest.raises(UpstreamError):
        client.activities(MONDAY, MONDAY)
