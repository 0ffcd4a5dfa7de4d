"""The runner's own edits in Google Calendar come back as overrides (the fake Google plays them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrations.calendar.google import event_id_for
from integrations.errors import UpstreamError
from integrations.types import CalendarEvent
from service.models import Runner
from service.planning.model import OverrideAction
from service.usecases.build_plan import find_session, plan_for_runner
from service.usecases.overrides import apply_override, search_window
from tests.fakes.google import FakeGoogle
from tests.service.google_publishing import NOW, Published, connected_runner


@pytest.fixture
def google(
    overrides: dict[str, str], fake_google: FakeGoogle, data_dir: Path
) -> Iterator[Published]:
    published = connected_runner(overrides, fake_google, data_dir)
    for setup in published:
        setup.publish()
        setup.fake.clear_log()
        yield setup


def _upcoming(google: Published, kind: str) -> tuple[str, CalendarEvent]:
    """The next session of a kind (by title) and its event id."""
    found = [(i, e) for i, e in google.planned().items() if e.summary.startswith(kind)]
    return min(((i, e) for i, e in found if e.start > NOW), key=lambda c: c[1].start)


def _placed_at(google: Published, uid: str) -> datetime | None:
    with google.db.session() as s:
        runner = s.get_one(Runner, google.runner_id)
        session = find_session(plan_for_runner(s, runner, search_window(runner, NOW.date())), uid)
        return None if session is None else session.start


def test_an_event_the_runner_deletes_becomes_a_skip_and_stays_deleted(google: Published) -> None:
    event_id, event = _upcoming(google, "Core")
    google.fake.delete_event(google.calendar_id, event_id)

    report = google.publish()

    assert report.skipped_by_runner == 1
    assert google.overrides()[event.uid].action == "skip"
    assert _placed_at(google, event.uid) is None
    assert (google.fake.event(google.calendar_id, event_id) or {})["status"] == "cancelled"
    assert event_id not in google.recorded()
    assert google.publish().written == 0


def test_an_event_the_runner_moves_becomes_a_move_to_the_new_time(google: Published) -> None:
    event_id, event = _upcoming(google, "Core")
    later = (event.start + timedelta(hours=1)).astimezone(UTC)
    google.fake.move_event(google.calendar_id, event_id, later)

    report = google.publish()

    assert report.moved_by_runner == 1
    override = google.overrides()[event.uid]
    assert (override.action, override.start_utc) == ("move", later)
    assert _placed_at(google, event.uid) == later
    shown = google.remote()[event_id]
    assert datetime.fromisoformat(shown["start"]["dateTime"]) == later
    assert google.recorded()[event_id].start_utc == later
    google.fake.clear_log()
    assert google.publish().written == 0
    assert google.writes() == 0


def test_a_move_that_breaks_a_hard_rule_is_kept_and_reported_as_a_conflict(
    google: Published,
) -> None:
    event_id, event = _upcoming(google, "Upper body")
    others = [
        e
        for e in google.planned().values()
        if e.summary.startswith("Upper body") and e.start > event.start
    ]
    clash = min(others, key=lambda e: e.start).start - timedelta(hours=2)  # arms get no rest
    google.fake.move_event(google.calendar_id, event_id, clash)

    report = google.publish()

    assert (report.moved_by_runner, report.conflicts) == (1, 1)
    assert _placed_at(google, event.uid) == clash


def test_a_renamed_event_is_left_to_the_runner_and_records_nothing(google: Published) -> None:
    event_id, _event = _upcoming(google, "Core")
    google.fake.edit_event(google.calendar_id, event_id, {"summary": "Core with Sam"})

    report = google.publish()

    assert (report.moved_by_runner, report.skipped_by_runner, report.written) == (0, 0, 0)
    assert google.overrides() == {}
    assert google.remote()[event_id]["summary"] == "Core with Sam"


def test_events_the_runner_made_themselves_are_not_touched(google: Published) -> None:
    start = NOW + timedelta(days=1)
    mine = google.fake.add_event(
        google.calendar_id,
        {
            "summary": "Dentist",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        },
    )

    report = google.publish()

    assert (report.moved_by_runner, report.skipped_by_runner, report.written) == (0, 0, 0)
    assert google.remote()[mine["id"]]["summary"] == "Dentist"
    assert mine["id"] not in google.recorded()


def test_our_own_write_whose_answer_was_lost_is_not_taken_for_the_runners_move(
    google: Published,
) -> None:
    event_id, event = _upcoming(google, "Core")
    later = (event.start + timedelta(hours=1)).astimezone(UTC)
    with google.db.session() as s:
        runner = s.get_one(Runner, google.runner_id)
        apply_override(s, runner, event.uid, OverrideAction.MOVE, today=NOW.date(), start=later)
    google.fake.fail(500, method="POST", path="^/batch/", inner=False, applied=True)
    with pytest.raises(UpstreamError):
        google.publish()
    google.fake.clear_log()

    report = google.publish()

    assert (report.moved_by_runner, report.written) == (0, 0)
    assert google.writes() == 0
    assert google.recorded()[event_id].start_utc == later
    assert event_id == event_id_for(event.uid)
