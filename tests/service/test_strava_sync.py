"""Strava jobs against the fake Strava: backfill with pagination, webhook events in any order,
deauthorization, rate limits that reschedule instead of sleeping, and rotating refresh tokens."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrations.strava.limits import seconds_to_next_quarter
from integrations.types import ExternalActivity, Sport, TokenSet
from service import db as dbmod
from service import jobs
from service.app import Runtime, create_app, runtime
from service.crypto import Sealer
from service.models import Activity, Connection, Runner
from service.usecases.activity_sources import ingest
from service.usecases.strava_connection import strava_connection
from service.usecases.strava_schedule import owed_runners
from tests.fakes.strava import FakeStrava


@pytest.fixture
def strava_rt(overrides: dict[str, str], fake_strava: FakeStrava) -> Iterator[Runtime]:
    key = Fernet.generate_key().decode("ascii")
    app = create_app({**overrides, **fake_strava.settings_overrides(), "encryption_keys": key})
    dbmod.upgrade(runtime(app).db.engine)
    yield runtime(app)
    runtime(app).db.dispose()


@pytest.fixture
def queue(strava_rt: Runtime) -> Iterator[jobs.Jobs]:
    """Our tasks on a queue of their own, run at once (retries land in its schedule)."""
    huey = jobs.make_queue(strava_rt.settings, name=f"test-{uuid.uuid4().hex[:12]}")
    huey.immediate = True
    yield jobs.Jobs(huey, strava_rt)
    huey.immediate = False
    huey.flush()


def connect(rt: Runtime, fake: FakeStrava, *, expires_at: datetime | None = None) -> int:
    """A runner whose Strava grant is stored as the callback would store it."""
    issued = fake.issue_token(scopes=("activity:read_all",))
    expiry = expires_at or datetime.fromtimestamp(issued.expires_at, UTC)
    grant = TokenSet(issued.access_token, issued.refresh_token, expiry, issued.scopes)
    with rt.db.session() as db:
        runner = Runner(name="", timezone="Europe/Berlin")
        db.add(runner)
        db.flush()
        db.add(
            Connection(
                runner_id=runner.id, provider="strava", state="connected",
                account=str(issued.athlete_id), grant=Sealer.from_settings(rt.settings).seal(grant),
            )
        )  # fmt: skip
        return runner.id


def run(fake: FakeStrava, days_ago: float, **fields: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return fake.add_activity(start=start, **fields)


def stored(rt: Runtime, runner_id: int) -> dict[str, Activity]:
    with rt.db.session() as db:
        rows = db.scalars(select(Activity).where(Activity.runner_id == runner_id))
        return {a.source_id: a for a in rows}


def connection(rt: Runtime, runner_id: int) -> Connection | None:
    with rt.db.session() as db:
        return strava_connection(db, runner_id)


def scheduled(queue: jobs.Jobs) -> list[Any]:
    return [*queue.huey.pending(), *queue.huey.scheduled()]


def test_the_backfill_pages_through_sixteen_weeks_and_leaves_older_runs_out(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    recent = [run(fake_strava, days_ago=0.4 * i + 0.1)["id"] for i in range(230)]
    run(fake_strava, days_ago=7 * 16 + 2)
    runner_id = connect(strava_rt, fake_strava)
    queue.strava_backfill(runner_id)
    assert set(stored(strava_rt, runner_id)) == {str(i) for i in recent}
    pages = fake_strava.requests("GET", "/athlete/activities")
    assert [p.arg("page") for p in pages] == ["1", "2"]
    assert {p.arg("per_page") for p in pages} == {"200"}
    after = int(pages[0].arg("after") or 0)
    assert abs(after - (datetime.now(UTC) - timedelta(weeks=16)).timestamp()) < 60
    found = connection(strava_rt, runner_id)
    assert found is not None
    assert found.last_sync_at is not None


def test_an_incremental_sync_starts_from_the_cursor_and_picks_up_a_late_upload(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    run(fake_strava, days_ago=10)
    newest = run(fake_strava, days_ago=1)
    runner_id = connect(strava_rt, fake_strava)
    queue.strava_backfill(runner_id)
    late = run(fake_strava, days_ago=3)  # uploaded now, started before the newest
    fake_strava.clear_log()
    queue.strava_sync(runner_id)
    (call,) = fake_strava.requests("GET", "/athlete/activities")
    start = datetime.fromisoformat(newest["start_date"].replace("Z", "+00:00"))
    assert int(call.arg("after") or 0) == int((start - timedelta(days=7)).timestamp())
    assert str(late["id"]) in stored(strava_rt, runner_id)


def test_a_full_read_counts_as_reconciled_and_a_webhook_event_does_not(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    run(fake_strava, days_ago=1)
    for payload in fake_strava.take_events():
        queue.strava_event(payload)
    after_event = connection(strava_rt, runner_id)
    assert after_event is not None
    assert after_event.last_sync_at is not None
    assert after_event.reconciled_at is None  # the scheduler still owes this runner a full read
    queue.strava_sync(runner_id)
    after_sync = connection(strava_rt, runner_id)
    assert after_sync is not None
    assert after_sync.reconciled_at is not None


def test_webhook_events_create_update_and_delete_activities(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    first = run(fake_strava, days_ago=1, distance=8000.0)
    second = run(fake_strava, days_ago=2)
    fake_strava.update_activity(first["id"], name="Tempo Tuesday", distance=8400.0)
    fake_strava.delete_activity(second["id"])
    for payload in fake_strava.take_events():
        queue.strava_event(payload)
    activities = stored(strava_rt, runner_id)
    assert set(activities) == {str(first["id"])}
    assert activities[str(first["id"])].name == "Tempo Tuesday"
    assert activities[str(first["id"])].distance_m == 8400.0


def test_duplicate_and_out_of_order_events_end_at_strava_s_truth(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    kept = run(fake_strava, days_ago=1)
    gone = run(fake_strava, days_ago=2)
    create_kept, create_gone = fake_strava.take_events()
    update_gone = fake_strava.update_activity(gone["id"], name="renamed")
    delete_gone = fake_strava.delete_activity(gone["id"])
    for payload in [delete_gone, create_kept, update_gone, create_kept, create_gone, delete_gone]:
        queue.strava_event(payload)
    assert set(stored(strava_rt, runner_id)) == {str(kept["id"])}
    assert scheduled(queue) == []


def test_deauthorization_deletes_strava_only_activities_and_keeps_file_imports(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    only_strava = run(fake_strava, days_ago=1)
    both = run(fake_strava, days_ago=2, distance=10000.0)
    queue.strava_backfill(runner_id)
    start = datetime.fromisoformat(both["start_date"].replace("Z", "+00:00"))
    fit = ExternalActivity("fit", "watch-1", Sport.RUN, start + timedelta(seconds=20), 10050.0)
    with strava_rt.db.session() as db:
        ingest(db, db.get_one(Runner, runner_id), [fit], "watch.fit")
    queue.strava_event(fake_strava.revoke_access())
    activities = stored(strava_rt, runner_id)
    assert str(only_strava["id"]) not in activities
    assert set(activities) == {"watch-1"}
    assert connection(strava_rt, runner_id) is None


def test_an_edit_of_a_recent_run_costs_no_call_and_lands_with_the_next_reconcile(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    recent = run(fake_strava, days_ago=1, workout_type=None)
    queue.strava_backfill(runner_id)
    fake_strava.take_events()
    fake_strava.update_activity(recent["id"], name="Race day", workout_type=1)
    fake_strava.clear_log()
    for payload in fake_strava.take_events():
        queue.strava_event(payload)
    assert fake_strava.count(path="/api/v3/") == 0
    assert stored(strava_rt, runner_id)[str(recent["id"])].name != "Race day"
    assert owed_runners(strava_rt.db, limit=1) == [runner_id]  # first at the next quarter hour
    queue.strava_sync(runner_id)
    activity = stored(strava_rt, runner_id)[str(recent["id"])]
    assert (activity.name, activity.is_race) == ("Race day", True)
    assert fake_strava.count(path="/api/v3/") == 1


def test_an_edit_making_a_run_private_or_of_an_old_run_is_read_at_once(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    old = run(fake_strava, days_ago=30)
    recent = run(fake_strava, days_ago=1)
    queue.strava_backfill(runner_id)
    fake_strava.take_events()
    fake_strava.update_activity(old["id"], name="Renamed long ago run")
    fake_strava.update_activity(recent["id"], private=True)
    fake_strava.clear_log()
    for payload in fake_strava.take_events():
        queue.strava_event(payload)
    assert fake_strava.count("GET", "/api/v3/activities/") == 2
    assert stored(strava_rt, runner_id)[str(old["id"])].name == "Renamed long ago run"


def test_a_reconcile_drops_runs_strava_no_longer_lists_when_their_delete_event_was_lost(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    old = run(fake_strava, days_ago=40)
    deleted = run(fake_strava, days_ago=3)
    with_file = run(fake_strava, days_ago=2, distance=10000.0)
    kept = run(fake_strava, days_ago=1)
    queue.strava_backfill(runner_id)
    start = datetime.fromisoformat(with_file["start_date"].replace("Z", "+00:00"))
    fit = ExternalActivity("fit", "watch-2", Sport.RUN, start + timedelta(seconds=20), 10050.0)
    with strava_rt.db.session() as db:
        ingest(db, db.get_one(Runner, runner_id), [fit], "watch.fit")
    for gone in (old, deleted, with_file):
        fake_strava.delete_activity(gone["id"])
    fake_strava.take_events()  # none of the delete events ever arrives
    queue.strava_sync(runner_id)
    activities = stored(strava_rt, runner_id)
    assert str(deleted["id"]) not in activities
    assert str(kept["id"]) in activities
    assert "watch-2" in activities  # the file still has that run
    assert str(old["id"]) in activities  # outside the window read: not known to be gone


def test_a_reconcile_cut_short_by_the_rate_limit_removes_nothing(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    for i in range(5):
        run(fake_strava, days_ago=0.5 + i)
    queue.strava_backfill(runner_id)
    newest = run(fake_strava, days_ago=0.1)["id"]
    fake_strava.fail(429, method="GET", path="/api/v3/athlete/activities")
    queue.strava_sync(runner_id)
    assert len(stored(strava_rt, runner_id)) == 5
    assert str(newest) not in stored(strava_rt, runner_id)


def test_a_deauthorization_event_strava_does_not_confirm_deletes_nothing(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    run(fake_strava, days_ago=1)
    queue.strava_backfill(runner_id)
    forged = fake_strava.webhook_event(
        fake_strava.athlete.id, "update", object_type="athlete", updates={"authorized": "false"}
    )
    queue.strava_event(forged)
    assert len(stored(strava_rt, runner_id)) == 1
    assert connection(strava_rt, runner_id) is not None


def test_a_429_reschedules_the_sync_for_the_next_window_without_waiting(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    fake_strava.fail(429, path="/athlete/activities")
    queue.strava_sync(runner_id)
    (retry,) = scheduled(queue)
    now = datetime.now(UTC)
    ahead = (retry.eta - now.replace(tzinfo=None)).total_seconds()
    assert abs(ahead - seconds_to_next_quarter(now)) < 5


def test_a_nearly_spent_window_holds_back_syncs_but_not_webhook_work(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    activity = run(fake_strava, days_ago=1)
    fake_strava.spend(fake_strava.limits.read[0] - 12)
    queue.strava_event(fake_strava.take_events()[0])  # sees the usage, spends one call
    assert str(activity["id"]) in stored(strava_rt, runner_id)
    fake_strava.clear_log()
    queue.strava_sync(runner_id)
    assert fake_strava.count("GET", "/athlete/activities") == 0
    assert len(scheduled(queue)) == 1


def test_an_expiring_grant_is_refreshed_first_and_the_rotated_refresh_token_kept(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=2)
    runner_id = connect(strava_rt, fake_strava, expires_at=soon)
    queue.strava_sync(runner_id)
    found = connection(strava_rt, runner_id)
    assert found is not None
    assert found.grant is not None
    grant = Sealer.from_settings(strava_rt.settings).open(found.grant)
    current = fake_strava.oauth.grant_of(fake_strava.athlete.id)
    assert current is not None
    assert grant.refresh_token == current.refresh_token
    assert fake_strava.count("POST", "/oauth/token") == 1
    assert fake_strava.requests("GET", "/athlete/activities")[0].status == 200


def test_a_401_refreshes_once_and_a_refused_refresh_waits_for_a_reconnect(
    strava_rt: Runtime, queue: jobs.Jobs, fake_strava: FakeStrava
) -> None:
    runner_id = connect(strava_rt, fake_strava)
    fake_strava.expire_access_tokens()
    queue.strava_sync(runner_id)
    assert [r.status for r in fake_strava.requests("GET", "/athlete/activities")] == [401, 200]
    fake_strava.oauth.revoke(fake_strava.athlete.id)
    queue.strava_sync(runner_id)
    found = connection(strava_rt, runner_id)
    assert found is not None
    assert found.state == "needs_reconnect"
    assert "Strava" in found.last_error
    assert scheduled(queue) == []
