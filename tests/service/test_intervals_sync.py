"""Syncing intervals.icu through the fake: activities (Strava stubs skipped), planned runs the plan
goes around, and pushing our sessions to its calendar without touching the runner's own events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrations.http import new_session
from service import db as dbmod
from service.db import Database
from service.models import Activity, Connection, PlannedRunRecord, Runner
from service.plan_view import plan_json
from service.planning.model import OverrideAction
from service.preferences import load_toml, parse_preferences
from service.settings import Settings
from service.usecases.build_plan import Horizon, plan_for_runner
from service.usecases.intervals_connection import connect, intervals_connection, set_push
from service.usecases.intervals_sync import (
    IntervalsReport,
    PushReport,
    push_intervals,
    stubs_seen,
    sync_intervals,
)
from service.usecases.overrides import apply_override
from service.usecases.runners import default_runner, store_preferences
from tests.fakes.intervals import FakeIntervals

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
NEXT_WEEK = date(2026, 11, 30)
THURSDAY = date(2026, 12, 3)


@dataclass
class Icu:
    """A Berlin runner connected to the fake intervals.icu, with handy views of both sides."""

    db: Database
    settings: Settings
    runner_id: int
    fake: FakeIntervals
    http: requests.Session

    def sync(self, now: datetime = NOW) -> IntervalsReport:
        return sync_intervals(self.db, self.settings, self.runner_id, now=now, session=self.http)

    def push(self, now: datetime = NOW) -> PushReport:
        return push_intervals(self.db, self.settings, self.runner_id, now=now, session=self.http)

    def connection(self) -> Connection:
        with self.db.session() as s:
            found = intervals_connection(s, self.runner_id)
            assert found is not None
            return found

    def days(self, start: date = NEXT_WEEK) -> dict[str, str]:
        """Each day of the week from ``start`` and its running, from the plan JSON."""
        with self.db.session() as s:
            runner = s.get_one(Runner, self.runner_id)
            plan = plan_for_runner(s, runner, Horizon(NOW.date(), start, 1))
        return {d["date"]: d["run"] for d in plan_json(plan)["weeks"][0]["days"]}

    def ours(self) -> dict[str, dict[str, Any]]:
        """Events we created on the fake's calendar, by external id."""
        return {e["external_id"]: e for e in self.fake.events(by_app=True)}


@pytest.fixture
def icu(overrides: dict[str, str], fake_intervals: FakeIntervals, data_dir: Path) -> Iterator[Icu]:
    key = Fernet.generate_key().decode("ascii")
    values = {**overrides, **fake_intervals.settings_overrides(), "encryption_keys": key}
    settings = Settings.from_env(env={}, overrides=values)
    db = Database(settings)
    dbmod.upgrade(db.engine)
    with new_session() as http:
        with db.session() as s:
            runner = default_runner(s)
            prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
            store_preferences(s, runner, prefs)
            connect(s, runner, settings, http, api_key=fake_intervals.api_key, now=NOW)
            runner_id = runner.id
        yield Icu(db, settings, runner_id, fake_intervals, http)
    db.dispose()


def test_activities_of_the_last_16_weeks_are_stored_and_strava_stubs_counted(icu: Icu) -> None:
    icu.fake.add_activity(datetime(2026, 11, 20, 18, 0), distance=8000.0)
    icu.fake.add_activity(datetime(2026, 10, 1, 7, 30), distance=21100.0)
    icu.fake.add_activity(datetime(2026, 6, 1, 7, 30))  # 25 weeks ago: not read
    icu.fake.add_strava_stub(datetime(2026, 11, 22, 9, 0))

    report = icu.sync()

    assert (report.stored, report.stubs_skipped) == (2, 1)
    with icu.db.session() as s:
        stored = s.scalars(select(Activity).order_by(Activity.start_utc)).all()
        assert [(a.source, a.distance_m) for a in stored] == [
            ("intervals_icu", 21100.0),
            ("intervals_icu", 8000.0),
        ]
    assert stubs_seen(icu.connection()) == 1
    assert icu.connection().last_sync_at == NOW


def test_a_later_sync_reads_only_since_the_last_one_and_stores_nothing_twice(icu: Icu) -> None:
    icu.fake.add_activity(datetime(2026, 11, 20, 18, 0))
    icu.sync()
    icu.fake.add_activity(datetime(2026, 11, 26, 18, 0))
    icu.fake.clear_log()

    report = icu.sync(NOW + timedelta(days=2))

    assert report.stored == 1
    oldest = [r.arg("oldest") for r in icu.fake.requests("GET", "/activities$")]
    assert oldest == ["2026-11-23"]  # two days before the last sync, for late uploads
    with icu.db.session() as s:
        assert len(s.scalars(select(Activity)).all()) == 2


def test_a_planned_interval_session_on_thursday_makes_thursday_a_hard_day(icu: Icu) -> None:
    assert icu.days()[THURSDAY.isoformat()] != "hard"
    icu.fake.add_event(THURSDAY, "6x800m intervals", moving_time=3600)
    icu.fake.add_event(date(2026, 12, 6), "Sunday long run", moving_time=6600, distance=22000.0)

    report = icu.sync()

    assert report.planned == 2
    days = icu.days()
    assert days[THURSDAY.isoformat()] == "hard"
    assert days["2026-12-06"] == "long"
    assert [d for d, run in days.items() if run != "none"] == ["2026-12-03", "2026-12-06"]


def test_planned_runs_are_replaced_and_the_plan_changes_only_when_they_change(icu: Icu) -> None:
    icu.fake.add_event(THURSDAY, "Easy run", moving_time=2400)
    icu.sync()
    with icu.db.session() as s:
        changed = s.get_one(Runner, icu.runner_id).plan_changed_at
    icu.sync()
    with icu.db.session() as s:
        assert s.get_one(Runner, icu.runner_id).plan_changed_at == changed
    icu.fake.add_event(THURSDAY, "Tempo 3x10 min", moving_time=3000)

    icu.sync()

    with icu.db.session() as s:
        assert s.get_one(Runner, icu.runner_id).plan_changed_at > changed
        rows = s.scalars(select(PlannedRunRecord).order_by(PlannedRunRecord.source_id)).all()
        assert [(r.day, r.kind, r.name) for r in rows] == [
            (THURSDAY, "easy", "Easy run"),
            (THURSDAY, "hard", "Tempo 3x10 min"),
        ]


def test_a_refused_key_marks_the_connection_and_reads_nothing_more(icu: Icu) -> None:
    icu.fake.fail(401, path="/activities")

    report = icu.sync()

    assert report.state == "needs_reconnect"
    assert icu.connection().state == "needs_reconnect"
    icu.fake.clear_log()
    assert icu.sync().state == "needs_reconnect"
    assert icu.fake.count() == 0


def test_push_sends_nothing_unless_the_runner_turned_it_on(icu: Icu) -> None:
    assert icu.push().upserted == 0
    assert icu.ours() == {}


def _push_on(icu: Icu) -> None:
    with icu.db.session() as s:
        connection = intervals_connection(s, icu.runner_id)
        assert connection is not None
        set_push(s, connection, True)


def test_push_upserts_by_uid_once_and_a_second_push_sends_nothing(icu: Icu) -> None:
    _push_on(icu)
    own = icu.fake.add_event(THURSDAY, "Club run", category="NOTE", type=None)

    first = icu.push()

    assert first.upserted > 0
    assert len(icu.ours()) == first.upserted
    assert all(uid and e["category"] == "WORKOUT" for uid, e in icu.ours().items())
    icu.fake.clear_log()
    second = icu.push()
    assert (second.upserted, second.deleted, second.unchanged) == (0, 0, first.upserted)
    assert icu.fake.count("POST") == icu.fake.count("PUT") == 0
    assert icu.fake.events(by_app=False) == [own]


def test_a_session_that_left_the_plan_is_deleted_and_the_runners_events_stay(icu: Icu) -> None:
    _push_on(icu)
    own = icu.fake.add_event(THURSDAY, "Threshold 2x20", moving_time=4200)
    icu.push()
    upcoming = sorted((e for e in icu.ours().values()), key=lambda e: e["start_date_local"])
    gone = next(e for e in upcoming if e["start_date_local"] > "2026-11-26")["external_id"]
    with icu.db.session() as s:
        runner = s.get_one(Runner, icu.runner_id)
        apply_override(s, runner, gone, OverrideAction.SKIP, today=NOW.date())

    report = icu.push()

    assert report.deleted == 1
    assert gone not in icu.ours()
    assert icu.fake.events(by_app=False) == [own]
