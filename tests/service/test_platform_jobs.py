"""Platform jobs on the real queue: intervals.icu is read and written by its task, a plan change of
a runner who pushes sessions queues a push, and the sweep reaches every connected platform."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrations.http import new_session
from service import db as dbmod
from service.app import Runtime, create_app, runtime
from service.jobs import AppJobs, Jobs, make_queue
from service.models import Activity, Runner, utcnow
from service.usecases.intervals_connection import connect, intervals_connection, set_push
from tests.fakes.intervals import FakeIntervals


@dataclass
class Setup:
    rt: Runtime
    jobs: Jobs
    runner_id: int
    fake: FakeIntervals


@pytest.fixture
def setup(overrides: dict[str, str], fake_intervals: FakeIntervals) -> Iterator[Setup]:
    key = Fernet.generate_key().decode("ascii")
    app = create_app({**overrides, **fake_intervals.settings_overrides(), "encryption_keys": key})
    rt = runtime(app)
    dbmod.upgrade(rt.db.engine)
    huey = make_queue(rt.settings, name=f"test-{id(app)}")
    huey.immediate = True  # tasks run on enqueue; scheduled ones wait in memory
    with rt.db.session() as db, new_session() as http:
        runner = Runner(name="", timezone="Europe/Berlin", preferences={})
        db.add(runner)
        db.flush()
        connect(db, runner, rt.settings, http, api_key=fake_intervals.api_key, now=utcnow())
        runner_id = runner.id
    yield Setup(rt, Jobs(huey, rt), runner_id, fake_intervals)
    rt.db.dispose()


def _activities(setup: Setup) -> list[float]:
    with setup.rt.db.session() as db:
        rows = db.scalars(select(Activity).where(Activity.runner_id == setup.runner_id))
        return sorted(a.distance_m for a in rows)


def test_the_intervals_task_stores_new_runs_and_pushes_sessions_when_asked(setup: Setup) -> None:
    setup.fake.add_activity(datetime.now() - timedelta(days=2), distance=12000.0)
    setup.jobs.intervals_sync(setup.runner_id)
    assert _activities(setup) == [12000.0]
    assert setup.fake.events(by_app=True) == []  # push is off
    with setup.rt.db.session() as db:
        connection = intervals_connection(db, setup.runner_id)
        assert connection is not None
        set_push(db, connection, True)
    setup.jobs.intervals_sync(setup.runner_id)
    assert setup.fake.events(by_app=True)
    assert _activities(setup) == [12000.0]  # read again, stored once


def _scheduled_pushes(setup: Setup) -> list[int]:
    return [t.args[0] for t in setup.jobs.huey.scheduled() if t.name.endswith("intervals_push")]


def test_a_plan_change_of_a_runner_who_pushes_queues_a_push(setup: Setup) -> None:
    hook = AppJobs(setup.rt, make=lambda: setup.jobs)
    with setup.rt.db.session() as db:
        runner = db.get_one(Runner, setup.runner_id)
    hook.after_commit({runner})
    assert _scheduled_pushes(setup) == []  # push is off
    with setup.rt.db.session() as db:
        connection = intervals_connection(db, setup.runner_id)
        assert connection is not None
        set_push(db, connection, True)
    hook.after_commit({runner})
    assert _scheduled_pushes(setup) == [setup.runner_id]


def test_the_sweep_syncs_every_connected_platform(setup: Setup) -> None:
    setup.fake.add_activity(datetime.now() - timedelta(days=1), distance=5000.0)
    setup.jobs.sweep_platforms()
    assert _activities(setup) == [5000.0]
