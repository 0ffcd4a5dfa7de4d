"""The Strava client (stravalib underneath) against the fake Strava: pagination, mapping, limits."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from integrations.errors import AuthExpired, NotFound, RateLimited, UpstreamError
from integrations.http import new_session
from integrations.strava.client import StravaClient
from integrations.strava.oauth import StravaEndpoints
from integrations.types import Sport
from tests.fakes.strava import FakeStrava

NOW = datetime(2026, 3, 2, 10, 7, 30, tzinfo=UTC)  # 7.5 minutes before the next window


@pytest.fixture
def fake(fake_strava: FakeStrava) -> FakeStrava:
    fake_strava.set_time(NOW)
    return fake_strava


def client_for(fake: FakeStrava, *, reserve: int = 5, token: str | None = None) -> StravaClient:
    access = token if token is not None else fake.issue_token().access_token
    return StravaClient(
        access,
        StravaEndpoints.for_root(fake.url),
        new_session(retries=0),
        reserve=reserve,
        clock=fake.now,
    )


def add_runs(fake: FakeStrava, count: int) -> list[int]:
    return [fake.add_activity(start=NOW - timedelta(days=count - i))["id"] for i in range(count)]


def test_activities_page_through_with_epoch_seconds(fake: FakeStrava) -> None:
    ids = add_runs(fake, 5)
    client = client_for(fake)
    after, before = NOW - timedelta(days=30, microseconds=500), NOW
    found = list(client.activities(after=after, before=before, per_page=2))
    assert sorted(int(a.source_id) for a in found) == sorted(ids)
    pages = fake.requests("GET", "/athlete/activities$")
    assert [p.arg("page") for p in pages] == ["1", "2", "3"]
    assert {p.arg("after") for p in pages} == {str(int(after.timestamp()))}
    assert {p.arg("before") for p in pages} == {str(int(before.timestamp()))}
    assert {p.arg("per_page") for p in pages} == {"2"}


def test_a_full_last_page_costs_one_empty_page_more(fake: FakeStrava) -> None:
    add_runs(fake, 4)
    found = list(client_for(fake).activities(after=NOW - timedelta(days=30), per_page=2))
    assert len(found) == 4
    assert fake.count("GET", "/athlete/activities$") == 3


def test_only_activities_after_the_cursor_come_back(fake: FakeStrava) -> None:
    add_runs(fake, 6)
    found = list(client_for(fake).activities(after=NOW - timedelta(days=3, hours=1)))
    assert len(found) == 3


def test_an_activity_is_mapped_from_sport_type_and_the_timezone(fake: FakeStrava) -> None:
    start = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    body = fake.add_activity(
        start=start, sport_type="TrailRun", distance=12345.6, workout_type=1, name="Hill race"
    )
    activity = client_for(fake).activity(body["id"])
    assert activity.sport is Sport.TRAIL_RUN
    assert activity.start_utc == start
    assert activity.utc_offset_s == 7200  # Berlin in July, though Strava says (GMT+01:00)
    assert activity.distance_m == pytest.approx(12345.6)
    assert activity.is_race
    assert activity.name == "Hill race"


def test_a_missing_activity_is_not_found(fake: FakeStrava) -> None:
    with pytest.raises(NotFound):
        client_for(fake).activity(987654321)


def test_usage_is_read_from_every_answer(fake: FakeStrava) -> None:
    fake.spend(40)
    client = client_for(fake)
    assert client.usage is None
    client.activity(fake.add_activity(start=NOW - timedelta(hours=1))["id"])
    usage = client.usage
    assert usage is not None
    assert usage.read is not None
    assert (usage.overall.usage_15min, usage.overall.limit_15min) == (41, 200)
    assert (usage.read.usage_15min, usage.read.limit_15min) == (41, 100)
    assert (usage.read.usage_day, usage.read.limit_day) == (41, 1000)


def test_a_nearly_spent_window_raises_before_calling_and_never_sleeps(fake: FakeStrava) -> None:
    activity_id = fake.add_activity(start=NOW - timedelta(hours=1))["id"]
    fake.spend(94)
    client = client_for(fake, reserve=5)
    client.activity(activity_id)  # the 95th read: fine, and now within 5 of the limit
    calls = fake.count()
    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        client.activity(activity_id)
    assert time.monotonic() - started < 1
    assert raised.value.retry_after == 450
    assert fake.count() == calls


def test_the_next_window_is_fresh_again(fake: FakeStrava) -> None:
    activity_id = fake.add_activity(start=NOW - timedelta(hours=1))["id"]
    fake.spend(99)
    client = client_for(fake, reserve=0)
    client.activity(activity_id)
    with pytest.raises(RateLimited):
        client.activity(activity_id)
    fake.advance(timedelta(minutes=8))
    assert client.activity(activity_id).source_id == str(activity_id)


def test_a_seeded_usage_carries_over_to_a_new_client(fake: FakeStrava) -> None:
    activity_id = fake.add_activity(start=NOW - timedelta(hours=1))["id"]
    fake.spend(97)
    first = client_for(fake)
    first.activity(activity_id)
    second = StravaClient(
        fake.issue_token().access_token,
        StravaEndpoints.for_root(fake.url),
        new_session(),
        clock=fake.now,
        usage=first.usage,
    )
    with pytest.raises(RateLimited):
        second.activity(activity_id)


def test_a_429_waits_for_the_next_quarter_hour(fake: FakeStrava) -> None:
    fake.spend(100)
    with pytest.raises(RateLimited) as raised:
        client_for(fake, reserve=0).activity(1)
    assert raised.value.retry_after == 450


def test_a_spent_day_waits_for_utc_midnight(fake: FakeStrava) -> None:
    fake.spend(1000)
    with pytest.raises(RateLimited) as raised:
        list(client_for(fake, reserve=0).activities(after=NOW - timedelta(days=1)))
    midnight = datetime(2026, 3, 3, tzinfo=UTC)
    assert raised.value.retry_after == (midnight - NOW).total_seconds()


def test_an_expired_token_means_reconnect_and_stravalib_never_refreshes_it(
    fake: FakeStrava, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRAVA_CLIENT_ID", str(fake.client_id))
    monkeypatch.setenv("STRAVA_CLIENT_SECRET", fake.client_secret)
    client = client_for(fake)
    fake.expire_access_tokens()
    with pytest.raises(AuthExpired):
        list(client.activities(after=NOW - timedelta(days=1)))
    assert fake.count("POST", "/oauth/token") == 0


def test_a_client_never_looks_for_strava_credentials_in_the_environment(
    fake: FakeStrava, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("STRAVA_CLIENT_ID", raising=False)
    monkeypatch.delenv("SILENCE_TOKEN_WARNINGS", raising=False)
    with caplog.at_level(logging.WARNING):
        client_for(fake).activities(after=NOW)
    assert [r.getMessage() for r in caplog.records] == []


def test_an_injected_401_is_auth_expired_and_a_500_an_upstream_error(fake: FakeStrava) -> None:
    client = client_for(fake)
    fake.fail(401, path="/activities/")
    with pytest.raises(AuthExpired):
        client.activity(1)
    fake.fail(500, path="/activities/")
    with pytest.raises(UpstreamError):
        client.activity(1)


def test_an_unreachable_strava_is_an_upstream_error(fake: FakeStrava) -> None:
    client = client_for(fake)
    fake.stop()
    with pytest.raises(UpstreamError):
        client.activity(1)


def test_times_must_be_aware_and_pages_at_most_200(fake: FakeStrava) -> None:
    client = client_for(fake)
    with pytest.raises(ValueError, match="aware"):
        list(client.activities(after=datetime(2026, 1, 1)))
    with pytest.raises(ValueError, match="per_page"):
        list(client.activities(after=NOW, per_page=201))
