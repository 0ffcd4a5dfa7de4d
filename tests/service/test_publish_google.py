"""Publishing the plan to the runner's Google calendar, against the fake Google over HTTP."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrations.calendar.google import event_id_for
from integrations.errors import UpstreamError
from integrations.types import TokenSet
from service.crypto import Sealer
from service.models import Connection, RemoteEvent, Runner
from service.planning.model import OverrideAction
from service.usecases.overrides import apply_override
from tests.fakes.google import FakeGoogle
from tests.service.google_publishing import NOW, Published, connected_runner


@pytest.fixture
def google(
    overrides: dict[str, str], fake_google: FakeGoogle, data_dir: Path
) -> Iterator[Published]:
    yield from connected_runner(overrides, fake_google, data_dir)


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_first_publish_creates_the_calendar_with_one_event_per_session_as_the_feed_shows_it(
    google: Published,
) -> None:
    report = google.publish()

    calendar = google.fake.calendars[google.calendar_id]
    assert (calendar["summary"], calendar["timeZone"]) == ("runstrength", "Europe/Berlin")
    planned, remote = google.planned(), google.remote()
    assert report.calendar_created
    assert report.inserted == len(planned) == len(remote) > 10
    assert remote.keys() == planned.keys()
    for event_id, event in planned.items():
        shown = remote[event_id]
        assert (shown["summary"], shown["description"]) == (event.summary, event.description)
        assert _local(shown["start"]["dateTime"]) == event.start
        assert _local(shown["end"]["dateTime"]) == event.end
        assert shown["start"]["timeZone"] == "Europe/Berlin"
        assert shown["extendedProperties"]["private"]["runstrength_uid"] == event.uid
        assert shown["reminders"]["overrides"] == [{"method": "popup", "minutes": 15}]
    assert google.connection().last_sync_at == NOW


def test_republishing_an_unchanged_plan_sends_nothing_but_the_sync_check(
    google: Published,
) -> None:
    first = google.publish()
    google.fake.clear_log()

    again = google.publish()

    assert (again.written, again.unchanged) == (0, first.inserted)
    assert google.writes() == 0
    assert [(r.method, r.path) for r in google.fake.requests()] == [
        ("GET", f"/calendar/v3/calendars/{google.calendar_id}/events")
    ]


def test_a_session_moved_in_the_app_is_one_patch_of_the_same_event(google: Published) -> None:
    google.publish()
    cores = [(i, e) for i, e in google.planned().items() if e.summary.startswith("Core")]
    event_id, event = min(((i, e) for i, e in cores if e.start > NOW), key=lambda c: c[1].start)
    later = event.start + timedelta(hours=1)
    with google.db.session() as s:
        runner = s.get_one(Runner, google.runner_id)
        apply_override(s, runner, event.uid, OverrideAction.MOVE, today=NOW.date(), start=later)
    google.fake.clear_log()

    report = google.publish()

    assert (report.patched, report.inserted, report.deleted) == (1, 0, 0)
    assert google.fake.count("PATCH", event_id, inner=True) == 1
    assert _local(google.remote()[event_id]["start"]["dateTime"]) == later
    assert google.remote().keys() == google.planned().keys()


def test_many_changes_go_in_batches_of_fifty(google: Published) -> None:
    google.publish()
    with google.db.session() as s:  # 120 events written earlier for sessions no longer planned
        connection_id = s.scalars(select(Connection.id)).one()
        for n in range(120):
            s.add(
                RemoteEvent(
                    connection_id=connection_id,
                    uid=f"gone-{n}",
                    event_id=event_id_for(f"gone-{n}"),
                    content_hash="x",
                    start_utc=NOW + timedelta(days=1),
                    end_utc=NOW + timedelta(days=1, hours=1),
                )
            )
    google.fake.clear_log()

    report = google.publish()

    assert report.deleted == 120
    assert google.fake.count("POST", "^/batch/", inner=False) == math.ceil(120 / 50)
    assert google.fake.count("DELETE", inner=True) == 120
    assert len(google.recorded()) == len(google.planned())


def test_a_deleted_calendar_is_created_again_with_every_event(google: Published) -> None:
    google.publish()
    old = google.calendar_id
    google.fake.delete_calendar(old)

    report = google.publish()

    assert report.calendar_created
    assert google.calendar_id != old
    assert report.inserted == len(google.planned())
    assert google.remote().keys() == google.planned().keys()


def test_a_publish_cut_off_mid_way_is_finished_by_the_next_one_without_duplicates_or_orphans(
    google: Published,
) -> None:
    google.publish()
    old_ids = set(google.remote())
    with google.db.session() as s:  # a new plan: every session gets a new uid, all events change
        s.get_one(Runner, google.runner_id).plan_key = "f" * 32
    last_delete = max(google.recorded().values(), key=lambda r: r.uid).event_id
    # The last call of the second batch takes effect, but Google's answer is lost.
    google.fake.fail(500, method="DELETE", path=last_delete, inner=True, applied=True)

    with pytest.raises(UpstreamError):
        google.publish()
    landed = set(google.remote()) - old_ids
    assert landed  # the first batch got through, and what it wrote is on record
    assert landed <= google.recorded().keys()
    google.publish()

    assert google.remote().keys() == google.planned().keys()
    assert not old_ids & google.remote().keys()
    assert google.recorded().keys() == google.planned().keys()
    google.fake.clear_log()
    assert google.publish().written == 0
    assert google.writes() == 0


def test_events_written_but_never_recorded_are_adopted_not_written_again(
    google: Published,
) -> None:
    google.fake.fail(500, method="POST", path="^/batch/", inner=False, applied=True)
    with pytest.raises(UpstreamError):
        google.publish()
    assert google.remote().keys() == google.planned().keys()
    assert google.recorded() == {}
    google.fake.clear_log()

    report = google.publish()

    assert (report.written, report.unchanged) == (0, len(google.planned()))
    assert google.writes() == 0
    assert google.recorded().keys() == google.planned().keys()


def test_a_revoked_grant_marks_the_connection_for_reconnection_without_raising(
    google: Published,
) -> None:
    google.publish()
    google.fake.revoke_grants()

    report = google.publish()

    assert report.state == "needs_reconnect"
    assert google.connection().state == "needs_reconnect"
    google.fake.clear_log()
    assert google.publish().state == "needs_reconnect"
    assert google.fake.requests() == []


def test_an_expired_grant_that_no_longer_refreshes_marks_the_connection(
    google: Published,
) -> None:
    google.fake.expire_refresh_tokens()
    with google.db.session() as s:
        connection = s.scalars(select(Connection)).one()
        sealer = Sealer.from_settings(google.settings)
        old = sealer.open(connection.grant or b"")
        stale = TokenSet(
            old.access_token, old.refresh_token, NOW - timedelta(minutes=1), old.scopes
        )
        connection.grant = sealer.seal(stale)

    report = google.publish()

    assert report.state == "needs_reconnect"
    assert google.connection().state == "needs_reconnect"
    assert google.connection().calendar_id is None


def test_a_grant_sealed_with_keys_since_removed_asks_for_reconnection(google: Published) -> None:
    google.settings = replace(google.settings, encryption_keys=(Fernet.generate_key().decode(),))

    report = google.publish()

    assert report.state == "needs_reconnect"
    assert google.connection().state == "needs_reconnect"


def test_an_event_google_refuses_for_good_is_reported_and_tried_again_next_time(
    google: Published,
) -> None:
    google.fake.fail(400, method="POST", path="/events$", inner=True, reason="invalid")

    report = google.publish()

    assert (report.failed, report.inserted) == (1, len(google.planned()) - 1)
    assert "Google refused insert" in google.connection().last_error
    again = google.publish()
    assert (again.failed, again.inserted) == (0, 1)
    assert google.remote().keys() == google.planned().keys()
    assert google.connection().last_error == ""


def test_an_expired_sync_token_means_a_full_listing_and_still_no_writes(
    google: Published,
) -> None:
    google.publish()
    google.fake.expire_sync_tokens()
    google.fake.clear_log()

    report = google.publish()

    assert (report.written, report.moved_by_runner, report.skipped_by_runner) == (0, 0, 0)
    assert google.writes() == 0
    assert google.fake.count("GET", inner=False) == 2  # the refused token, then everything


def test_a_failed_publish_leaves_its_reason_on_the_connection(google: Published) -> None:
    google.fake.fail(503, method="POST", path="^/calendar/v3/calendars$")

    with pytest.raises(UpstreamError):
        google.publish()

    assert "UpstreamError" in google.connection().last_error
    assert google.connection().last_sync_at is None
    google.publish()
    assert google.connection().last_error == ""
