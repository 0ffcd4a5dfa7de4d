"""Slots offered for a session and the dry run of a move: inside the runner's windows, clear of
runs, and naming exactly the conflicts a stored move then reports, without storing anything."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from integrations.files.sources import Walk
from service.app import Runtime
from service.models import Runner, SessionOverride
from service.planning.model import OverrideAction, Session
from service.preferences import load_toml, parse_preferences
from service.usecases.build_plan import plan_for_runner
from service.usecases.import_files import import_sources
from service.usecases.overrides import apply_override, restore, search_window
from service.usecases.runners import (
    InvalidValue,
    RunnerChange,
    default_runner,
    store_preferences,
    update_runner,
)
from service.usecases.session_actions import skip_session
from service.usecases.session_slots import offered_slots, parse_start, preview_move, session_view

TODAY = date(2026, 11, 22)  # a Sunday, the sample's last day
BERLIN = ZoneInfo("Europe/Berlin")
EARLY = datetime(2026, 11, 22, tzinfo=BERLIN)
WEEK = [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]
# berlin_evenings.toml: run_times tuesday 18:30 and sunday 09:00, 60-minute runs, 30 min clear
RUNS = {1: (18 * 60, 20 * 60), 6: (8 * 60 + 30, 10 * 60 + 30)}


@pytest.fixture
def rt_runner(rt: Runtime, data_dir: Path) -> Runtime:
    """The installation's runner in Berlin, with evening preferences and the sample's runs."""
    with rt.db.session() as db:
        runner = update_runner(db, default_runner(db), RunnerChange(timezone="Europe/Berlin"))
        prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
        store_preferences(db, runner, prefs)
        runner_id = runner.id
    import_sources(rt.db, runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    return rt


@contextmanager
def _runner(rt: Runtime) -> Iterator[tuple[DbSession, Runner]]:
    with rt.db.session() as db:
        yield db, default_runner(db)


def _next_week(rt: Runtime, kind: str) -> Session:
    with _runner(rt) as (db, runner):
        plan = plan_for_runner(db, runner, search_window(runner, TODAY))
    return next(s for w in plan.weeks for s in w.sessions if s.day in WEEK and s.kind.value == kind)


def _minutes(moment: datetime | time) -> int:
    return moment.hour * 60 + moment.minute


def _stored(rt: Runtime) -> int:
    with rt.db.session() as db:
        return int(db.scalar(select(func.count()).select_from(SessionOverride)) or 0)


def test_every_offered_slot_lies_in_a_window_of_its_week_and_clear_of_the_runs(
    rt_runner: Runtime,
) -> None:
    session = _next_week(rt_runner, "upper_body")
    with _runner(rt_runner) as (db, runner):
        offer = offered_slots(db, runner, session.uid, today=TODAY, not_before=EARLY)
        windows = parse_preferences(runner.preferences or {}).windows
    slots = [slot for day in offer.days for slot in day.slots]
    assert len(slots) > 10
    for slot in slots:
        day = slot.start.date()
        assert day in WEEK
        assert slot.end - slot.start == session.end - session.start
        start, end = _minutes(slot.start), _minutes(slot.end)
        assert any(
            _minutes(w.start) <= start and end <= _minutes(w.end) for w in windows(day.weekday())
        ), slot
        run = RUNS.get(day.weekday())
        assert run is None or end <= run[0] or start >= run[1], slot


def test_no_slot_is_offered_before_not_before(rt_runner: Runtime) -> None:
    session = _next_week(rt_runner, "upper_body")
    wednesday_noon = datetime(2026, 11, 25, 12, tzinfo=BERLIN)
    with _runner(rt_runner) as (db, runner):
        offer = offered_slots(db, runner, session.uid, today=TODAY, not_before=wednesday_noon)
    assert offer.days
    assert all(slot.start >= wednesday_noon for day in offer.days for slot in day.slots)


def test_slots_keep_clear_of_a_session_the_runner_placed(rt_runner: Runtime) -> None:
    cross, upper = _next_week(rt_runner, "cross_training"), _next_week(rt_runner, "upper_body")
    friday_17 = datetime(2026, 11, 27, 17, tzinfo=BERLIN)
    with _runner(rt_runner) as (db, runner):
        apply_override(db, runner, cross.uid, OverrideAction.MOVE, today=TODAY, start=friday_17)
    with _runner(rt_runner) as (db, runner):
        offer = offered_slots(db, runner, upper.uid, today=TODAY, not_before=EARLY)
    taken_until = friday_17 + (cross.end - cross.start) + timedelta(minutes=15)
    friday = [s for d in offer.days if d.day == date(2026, 11, 27) for s in d.slots]
    assert friday
    assert all(s.start >= taken_until for s in friday)


def test_the_dry_run_names_exactly_the_conflicts_a_stored_move_reports(
    rt_runner: Runtime,
) -> None:
    session = _next_week(rt_runner, "upper_body")
    with _runner(rt_runner) as (db, runner):
        offer = offered_slots(db, runner, session.uid, today=TODAY, not_before=EARLY)
    assert any(day.conflicts for day in offer.days)  # the day before the long run
    for day in offer.days:
        start = day.slots[-1].start
        with _runner(rt_runner) as (db, runner):
            preview = preview_move(db, runner, session.uid, start, today=TODAY)
            predicted = sorted(c.rule for c in preview.conflicts if c.uid == session.uid)
        with _runner(rt_runner) as (db, runner):
            stored = apply_override(
                db, runner, session.uid, OverrideAction.MOVE, today=TODAY, start=start
            )
        with _runner(rt_runner) as (db, runner):
            restore(db, runner, session.uid)
        assert predicted == sorted(c.rule for c in stored), day.day
        assert predicted == sorted(c.rule for c in day.conflicts if c.uid == session.uid)


def test_a_preview_says_the_rule_in_words_and_stores_nothing(rt_runner: Runtime) -> None:
    session = _next_week(rt_runner, "upper_body")
    saturday = datetime(2026, 11, 28, 10, tzinfo=BERLIN)
    with _runner(rt_runner) as (db, runner):
        preview = preview_move(db, runner, session.uid, saturday, today=TODAY)
    assert [c.rule for c in preview.conflicts] == ["rule-2-day-before-long-run"]
    assert preview.conflicts[0].reason.startswith("The next day is your long run")
    assert preview.end - preview.start == session.end - session.start
    assert _stored(rt_runner) == 0
    with _runner(rt_runner) as (db, runner):
        assert session_view(db, runner, session.uid, today=TODAY).session == session


def test_a_move_out_of_the_session_s_week_is_refused(rt_runner: Runtime) -> None:
    session = _next_week(rt_runner, "core")
    with _runner(rt_runner) as (db, runner), pytest.raises(InvalidValue, match="own week"):
        preview_move(db, runner, session.uid, session.start + timedelta(days=7), today=TODAY)


def test_a_skipped_session_still_shows_what_it_holds_and_where_it_may_go(
    rt_runner: Runtime,
) -> None:
    session = _next_week(rt_runner, "core")
    with _runner(rt_runner) as (db, runner):
        view = skip_session(db, runner, session.uid, today=TODAY)
    assert (view.state, view.session) == ("skipped", None)
    assert view.content.exercises == session.exercises
    assert view.restorable
    with _runner(rt_runner) as (db, runner):
        offer = offered_slots(db, runner, session.uid, today=TODAY, not_before=EARLY)
    assert offer.days
    assert offer.view.minutes == session.duration_min


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T18:30", datetime(2026, 11, 26, 18, 30, tzinfo=BERLIN)),
        ("2026-11-26 18:30", datetime(2026, 11, 26, 18, 30, tzinfo=BERLIN)),
        ("2026-11-26T18:30:00+01:00", datetime(2026, 11, 26, 18, 30, tzinfo=BERLIN)),
        ("2026-11-26T17:30Z", datetime(2026, 11, 26, 18, 30, tzinfo=BERLIN)),
        ("2026-11-26T12:30-05:00", datetime(2026, 11, 26, 18, 30, tzinfo=BERLIN)),
    ],
)
def test_a_start_is_read_with_its_offset_or_in_the_runner_s_zone(
    rt_runner: Runtime, text: str, expected: datetime
) -> None:
    with _runner(rt_runner) as (_db, runner):
        parsed = parse_start(runner, text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(hours=1)  # shown in the runner's zone


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("tomorrow", "expected a date and time"),
        ("2026-11-26", "expected a date and time"),
        ("2026-02-30T18:00", "not a real date and time"),
        ("2026-11-26T18:30:15", "whole minutes"),
        ("2027-03-28T02:30", "clocks change"),  # skipped when summer time starts
        ("2026-10-25T02:30", "clocks change"),  # happens twice when it ends
        ("\uff12\uff10\uff12\uff16-11-26T18:30", "expected a date and time"),  # full-width digits,
    ],
)
def test_a_bad_start_is_refused_with_a_reason(rt_runner: Runtime, text: str, says: str) -> None:
    with _runner(rt_runner) as (_db, runner), pytest.raises(InvalidValue, match=says):
        parse_start(runner, text)
