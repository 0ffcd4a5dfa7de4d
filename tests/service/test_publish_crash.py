"""A `runstrength worker` killed mid-publish, then a new one: Google ends up holding exactly the
plan, with no duplicates and no orphans, and our record of it agrees."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from integrations.calendar.google import event_id_for
from service import jobs
from service.app import Runtime
from service.keys import secret_key
from service.models import RemoteEvent, Runner, utcnow
from service.preferences import load_toml, parse_preferences
from service.usecases.publish_plan import feed_window, window_events
from service.usecases.runners import store_preferences
from tests.fakes.google import FakeGoogle, Hold
from tests.service.google_publishing import Published, connected_runner
from tests.service.test_serve_demo import ROOT, clean_env

DEADLINE_S = 60  # an upper bound for a worker to get somewhere, never a timing assumption
BATCH = "^/batch/"


@dataclass(frozen=True)
class Crash:
    """Which batch request the worker is killed in, and whether Google applies it anyway.

    A first batch that is never applied is no crash worth the name: nothing happened yet."""

    batch: int
    applied: bool


CRASHES = {
    "second batch applied, reply lost": Crash(2, applied=True),
    "second batch never applied": Crash(2, applied=False),
    "first batch applied, reply lost": Crash(1, applied=True),
}


@dataclass
class Worker:
    """A `runstrength worker` subprocess and the file its log goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text()

    def wait_for(self, pattern: str) -> str:
        """Poll the log until a line matches; fail if the worker exits or time runs out."""
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found:
                return found.group(0)
            if self.process.poll() is not None:
                pytest.fail(f"worker exited with {self.process.returncode}: {self.text()}")
            time.sleep(0.1)  # polling interval, not a timing assumption
        pytest.fail(f"no {pattern!r} within {DEADLINE_S}s in the worker's log: {self.text()}")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=DEADLINE_S)


@pytest.fixture
def published(tmp_path: Path, fake_google: FakeGoogle, data_dir: Path) -> Iterator[Published]:
    """A connected runner on a SQLite database in tmp_path."""
    overrides = {
        "data_dir": str(tmp_path / "data"),
        "database_url": f"sqlite:///{tmp_path / 'crash.db'}",
    }
    yield from connected_runner(overrides, fake_google, data_dir)


def start_worker(published: Published, tmp_path: Path, name: str) -> Worker:
    """`runstrength worker` on the test's database, queue, keys and fake Google."""
    settings = published.settings
    values = {
        "database_url": f"sqlite:///{tmp_path / 'crash.db'}",
        "encryption_keys": ",".join(settings.encryption_keys),
        **published.fake.settings_overrides(),
    }
    env = clean_env(settings.data_dir, **{f"RUNSTRENGTH_{k.upper()}": v for k, v in values.items()})
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    return Worker(process, log)


def new_week_start(published: Published, day: str) -> None:
    """The runner starts their week on another day: every session gets a new uid."""
    raw = load_toml(Path(__file__).parents[1] / "data" / "prefs" / "berlin_evenings.toml")
    with published.db.session() as s:
        runner = s.get_one(Runner, published.runner_id)
        store_preferences(s, runner, parse_preferences({**raw, "week_start": day}))


def expected_ids(published: Published, earlier: dict[str, dict[str, Any]]) -> set[str]:
    """The plan's events now, and earlier ones older than the window (kept as history)."""
    now = utcnow()
    with published.db.session() as s:
        runner = s.get_one(Runner, published.runner_id)
        zone = ZoneInfo(runner.timezone)
        today = now.astimezone(zone).date()
        events = window_events(
            s, runner, base_url=published.settings.base_url, today=today, now=now
        )
        first_day = feed_window(runner, today).start
    keep_before = datetime.combine(first_day, clock.min, zone)
    history = {
        event_id
        for event_id, event in earlier.items()
        if datetime.fromisoformat(event["start"]["dateTime"]) < keep_before
    }
    return {event_id_for(e.uid) for e in events} | history


def recorded_ids(published: Published) -> set[str]:
    with published.db.session() as s:
        return set(s.scalars(select(RemoteEvent.event_id)))


def stop_in_batch(fake: FakeGoogle, crash: Crash, worker: Worker, first: Hold) -> Hold:
    """Let batches through one at a time until the crash's batch is held; that hold."""
    held = first
    for number in range(1, crash.batch):
        assert held.wait(DEADLINE_S), f"batch {number} never came: {worker.text()}"
        if number + 1 == crash.batch and not crash.applied:
            fake.fail(500, method="POST", path=BATCH, inner=False)  # taken with the next hold
        following = fake.hold(method="POST", path=BATCH, inner=False)
        held.release()
        held = following
    assert held.wait(DEADLINE_S), f"batch {crash.batch} never came: {worker.text()}"
    return held


def lapse_lease(queue: jobs.Jobs, runner_id: int) -> None:
    """The killed worker's lease is still there: let it run out, as 60 s would."""
    key = f"publish.lock.{runner_id}"
    left = queue.huey.get(key, peek=True)
    assert left is not None, "the killed worker held no lease"
    queue.huey.put(key, (time.time() - 1, left[1]))


@pytest.mark.parametrize("crash", CRASHES.values(), ids=CRASHES.keys())
def test_a_worker_killed_mid_publish_is_finished_by_the_next_one_without_duplicates_or_orphans(
    published: Published, tmp_path: Path, crash: Crash
) -> None:
    fake = published.fake
    assert published.publish(utcnow()).inserted > 0
    earlier = published.remote()
    fake.clear_log()
    new_week_start(published, "sunday")  # every event is replaced: more than one batch of calls
    rt = Runtime(published.settings, published.db, secret_key(published.settings))
    queue = jobs.Jobs(jobs.make_queue(published.settings), rt)
    assert queue.request_publish([published.runner_id], delay_s=0) == [published.runner_id]
    first = fake.hold(method="POST", path=BATCH, inner=False)
    workers = [start_worker(published, tmp_path, "killed")]
    try:
        held = stop_in_batch(fake, crash, workers[0], first)
        workers[0].process.send_signal(signal.SIGKILL)
        assert workers[0].process.wait(timeout=DEADLINE_S) == -signal.SIGKILL
        held.release()
        sent = fake.requests("POST", BATCH)[crash.batch - 1]
        deadline = time.monotonic() + DEADLINE_S
        while sent.status is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the fake finishes the held call in its own thread
        assert sent.status == (200 if crash.applied else 500)
        expected = expected_ids(published, earlier)
        assert recorded_ids(published) != expected  # the kill left our record behind
        lapse_lease(queue, published.runner_id)

        workers.append(start_worker(published, tmp_path, "next"))
        workers[1].wait_for(rf"runner {published.runner_id}: [^\n]*unchanged")

        live = fake.events(published.calendar_id)
        assert len(live) == len({e["id"] for e in live})  # no duplicates
        assert {e["id"] for e in live} == expected  # every planned event and nothing else
        uids = [e["extendedProperties"]["private"]["runstrength_uid"] for e in live]
        assert len(uids) == len(set(uids))
        assert recorded_ids(published) == expected
        assert published.overrides() == {}  # our own deletes were not taken for the runner's
        workers[1].process.send_signal(signal.SIGTERM)
        assert workers[1].process.wait(timeout=DEADLINE_S) == 0
        assert "Traceback" not in workers[1].text()
    finally:
        for worker in workers:
            worker.end()
