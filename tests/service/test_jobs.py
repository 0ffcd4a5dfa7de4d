"""The job queue on real SqliteHuey and RedisHuey: enqueue after commit, locks, retries, crashes."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
import requests

from integrations.errors import AuthExpired, RateLimited, UpstreamError
from service import jobs
from service.app import Runtime
from service.db import Database
from service.lease import Lease
from service.models import Connection, Runner
from service.settings import Settings
from service.usecases.publish_google import PublishReport
from service.usecases.runners import PLAN_CHANGED, mark_plan_changed

REDIS_URL = os.environ.get("RUNSTRENGTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT_S = 20  # upper bound for a real consumer to get to a job; never a timing assumption


def redis_or_skip() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis required in CI but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    return REDIS_URL


@dataclass
class StandIn:
    """A publisher with the use case's signature that records calls and can fail per runner."""

    fail: dict[int, Exception] = field(default_factory=dict)
    gate: dict[int, threading.Event] = field(default_factory=dict)
    calls: list[int] = field(default_factory=list)
    started: dict[int, threading.Event] = field(default_factory=dict)
    received: list[tuple[Database, Settings, requests.Session]] = field(default_factory=list)

    def __call__(
        self,
        db: Database,
        settings: Settings,
        runner_id: int,
        *,
        now: datetime,
        session: requests.Session,
    ) -> PublishReport:
        self.calls.append(runner_id)
        self.received.append((db, settings, session))
        self.started.setdefault(runner_id, threading.Event()).set()
        if runner_id in self.gate:
            assert self.gate[runner_id].wait(WAIT_S)
        if runner_id in self.fail:
            raise self.fail[runner_id]
        return PublishReport(inserted=1, unchanged=2)

    def reached(self, runner_id: int) -> threading.Event:
        return self.started.setdefault(runner_id, threading.Event())


@pytest.fixture(params=["sqlite", "redis"])
def queue_settings(request: pytest.FixtureRequest, rt: Runtime) -> Settings:
    url = redis_or_skip() if request.param == "redis" else ""
    return replace(rt.settings, queue_url=url)


@pytest.fixture
def stand_in() -> StandIn:
    return StandIn()


@pytest.fixture
def queue(rt: Runtime, queue_settings: Settings, stand_in: StandIn) -> Iterator[jobs.Jobs]:
    """Our tasks on a queue of its own (a unique name), emptied afterwards."""
    huey = jobs.make_queue(queue_settings, name=f"test-{uuid.uuid4().hex[:12]}")
    yield jobs.Jobs(huey, rt, stand_in)
    huey.immediate = False
    huey.flush()


@pytest.fixture
def consumer(queue: jobs.Jobs) -> Iterator[Callable[[int], Any]]:
    """Start a real thread consumer; restores the signal handlers it installs in this process."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    started: list[Any] = []

    def start(workers: int) -> Any:
        running = queue.huey.create_consumer(workers=workers, max_delay=0.2, periodic=False)
        running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop(graceful=True)
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def add_runner(rt: Runtime, *, connected: bool) -> int:
    with rt.db.session() as session:
        runner = Runner(name="", timezone="Europe/Berlin")
        session.add(runner)
        session.flush()
        if connected:
            session.add(
                Connection(runner_id=runner.id, provider="google_calendar", state="connected")
            )
        return runner.id


def change_plan(rt: Runtime, runner_id: int) -> None:
    with rt.db.session() as session:
        mark_plan_changed(session.get_one(Runner, runner_id))


def scheduled(queue: jobs.Jobs) -> list[Any]:
    """Tasks waiting to run: enqueued with an eta, or already moved to the schedule."""
    return [*queue.huey.pending(), *queue.huey.scheduled()]


def seconds_ahead(task: Any) -> float:
    return float((task.eta - datetime.now(UTC).replace(tzinfo=None)).total_seconds())


@pytest.fixture
def after_commit(rt: Runtime, queue: jobs.Jobs) -> list[int]:
    """Wire the app's after-commit publishing to the test queue; lists every queue opening."""
    opened: list[int] = []

    def make() -> jobs.Jobs:
        opened.append(1)
        return queue

    rt.db.on_commit(PLAN_CHANGED, jobs.AppJobs(rt, make).after_commit)
    return opened


def test_a_committed_plan_change_schedules_exactly_one_publish_for_that_runner(
    rt: Runtime, queue: jobs.Jobs, after_commit: list[int]
) -> None:
    runner_id = add_runner(rt, connected=True)
    with rt.db.session() as session:
        runner = session.get_one(Runner, runner_id)
        mark_plan_changed(runner)
        mark_plan_changed(runner)
        assert scheduled(queue) == []  # not before the commit: the job must see the change
    tasks = scheduled(queue)
    assert [t.args for t in tasks] == [(runner_id,)]
    assert 0 < seconds_ahead(tasks[0]) <= jobs.DEBOUNCE_S


def test_a_rolled_back_plan_change_schedules_nothing(
    rt: Runtime, queue: jobs.Jobs, after_commit: list[int]
) -> None:
    runner_id = add_runner(rt, connected=True)

    def failing_request() -> None:
        with rt.db.session() as session:
            mark_plan_changed(session.get_one(Runner, runner_id))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    with rt.db.session():  # a later unrelated commit carries nothing over
        pass
    assert scheduled(queue) == []


def test_changes_in_quick_succession_share_one_publish(
    rt: Runtime, queue: jobs.Jobs, after_commit: list[int]
) -> None:
    runner_id, other_id = add_runner(rt, connected=True), add_runner(rt, connected=True)
    for _ in range(3):
        change_plan(rt, runner_id)
    change_plan(rt, other_id)
    assert sorted(t.args for t in scheduled(queue)) == [(runner_id,), (other_id,)]


def test_runners_without_a_connected_calendar_open_no_queue(
    rt: Runtime, queue: jobs.Jobs, after_commit: list[int]
) -> None:
    runner_id = add_runner(rt, connected=False)
    change_plan(rt, runner_id)
    with rt.db.session() as session:
        session.add(
            Connection(runner_id=runner_id, provider="google_calendar", state="needs_reconnect")
        )
    change_plan(rt, runner_id)
    assert after_commit == []
    assert scheduled(queue) == []


def test_the_publish_task_runs_the_publisher_with_the_runner_id(
    rt: Runtime, queue: jobs.Jobs, stand_in: StandIn
) -> None:
    queue.huey.immediate = True
    queue.publish(42)
    assert stand_in.calls == [42]
    db, settings, session = stand_in.received[0]
    assert db is rt.db
    assert settings is rt.settings
    assert isinstance(session, requests.Session)


def test_a_publish_clears_the_pending_mark_so_later_changes_publish_again(
    queue: jobs.Jobs, stand_in: StandIn
) -> None:
    assert queue.request_publish([5]) == [5]
    assert queue.request_publish([5]) == []
    queue.publish_once(5)
    assert queue.request_publish([5]) == [5]


def test_a_job_for_a_locked_runner_comes_back_later_instead_of_running(
    queue: jobs.Jobs, stand_in: StandIn
) -> None:
    queue.huey.immediate = True  # (this swaps in memory storage: take the lease after it)
    lease = Lease(queue.huey, "publish.lock.7")
    assert lease.acquire()
    queue.publish(7)
    assert stand_in.calls == []
    (retry,) = scheduled(queue)
    assert retry.args == (7,)
    assert 0 < seconds_ahead(retry) <= jobs.LOCKED_RETRY_S
    assert retry.retries == jobs.UPSTREAM_RETRIES  # waiting for a lock uses up no retries


def test_two_jobs_for_one_runner_never_run_at_once_on_a_real_consumer(
    queue: jobs.Jobs, stand_in: StandIn, consumer: Callable[[int], Any]
) -> None:
    retried, retried_tasks = threading.Event(), []

    @queue.huey.signal("retrying")
    def on_retry(_signal: str, task: Any) -> None:
        retried_tasks.append(task.args)
        retried.set()

    stand_in.gate[3] = threading.Event()
    consumer(2)
    queue.publish(3)
    assert stand_in.reached(3).wait(WAIT_S)
    queue.publish(3)  # the second worker thread picks it up while the first still runs
    assert retried.wait(WAIT_S)
    assert stand_in.calls == [3]  # the first still holds the runner: the second stepped back
    assert retried_tasks == [(3,)]
    stand_in.gate[3].set()


def test_rate_limited_publishing_is_rescheduled_after_the_delay_google_asked_for(
    queue: jobs.Jobs, stand_in: StandIn
) -> None:
    stand_in.fail[8] = RateLimited(120)
    queue.huey.immediate = True
    queue.publish(8)
    (retry,) = scheduled(queue)
    assert 115 < seconds_ahead(retry) <= 120
    assert stand_in.calls == [8]


def test_upstream_errors_are_retried_with_backoff_a_few_times(
    queue: jobs.Jobs, stand_in: StandIn
) -> None:
    stand_in.fail[9] = UpstreamError("503 from Google")
    queue.huey.immediate = True
    queue.publish(9)
    (retry,) = scheduled(queue)
    assert retry.retries == jobs.UPSTREAM_RETRIES - 1
    assert jobs.UPSTREAM_DELAY_S - 5 < seconds_ahead(retry) <= jobs.UPSTREAM_DELAY_S
    assert retry.retry_delay == jobs.UPSTREAM_DELAY_S * jobs.UPSTREAM_BACKOFF


def test_an_expired_grant_is_not_retried(queue: jobs.Jobs, stand_in: StandIn) -> None:
    stand_in.fail[10] = AuthExpired("invalid_grant")
    queue.huey.immediate = True
    queue.publish(10)
    assert stand_in.calls == [10]
    assert scheduled(queue) == []


def test_a_crashing_job_is_logged_with_its_runner_and_the_consumer_goes_on(
    queue: jobs.Jobs,
    stand_in: StandIn,
    consumer: Callable[[int], Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stand_in.fail[11] = KeyError("a bug")
    consumer(1)
    queue.publish(11)
    queue.publish(12)
    assert stand_in.reached(12).wait(WAIT_S)
    assert stand_in.calls == [11, 12]
    assert "runner 11: publishing failed" in caplog.text
    assert scheduled(queue) == []  # a bug is not retried


def test_the_sweep_schedules_every_connected_runner_once(rt: Runtime, queue: jobs.Jobs) -> None:
    connected = [add_runner(rt, connected=True) for _ in range(2)]
    add_runner(rt, connected=False)
    assert queue.request_all() == connected
    assert queue.request_all() == []
    assert sorted(t.args for t in scheduled(queue)) == [(r,) for r in connected]


def test_a_lapsed_lease_is_taken_over_by_exactly_one_contender(queue: jobs.Jobs) -> None:
    killed = Lease(queue.huey, "publish.lock.1", ttl_s=-1)  # as if its holder died
    assert killed.acquire()
    taker, late = Lease(queue.huey, "publish.lock.1"), Lease(queue.huey, "publish.lock.1")
    assert taker.acquire()
    assert not late.acquire()
    killed.release()  # not its lease any more: no effect
    assert not late.acquire()
    taker.release()
    assert late.acquire()


def test_a_held_lease_is_renewed_while_the_work_runs(queue: jobs.Jobs) -> None:
    lease = Lease(queue.huey, "publish.lock.2", ttl_s=0.3)
    assert lease.acquire()
    with lease.kept():
        renewed = threading.Event()
        before = queue.huey.get(lease.key, peek=True)[0]
        while not renewed.wait(0.05):  # poll until the renewer has written a later expiry
            if queue.huey.get(lease.key, peek=True)[0] > before:
                renewed.set()
    assert queue.huey.get(lease.key, peek=True) is None


def test_the_queue_lives_in_the_data_dir_unless_a_redis_url_is_set(rt: Runtime) -> None:
    sqlite = jobs.make_queue(rt.settings)
    assert sqlite.storage.filename == str(rt.settings.data_dir / "queue.db")
    redis_queue = jobs.make_queue(replace(rt.settings, queue_url="redis://:secret@h:6380/2"))
    assert type(redis_queue).__name__ == "PriorityRedisHuey"  # webhook events jump the queue
    location = jobs.queue_location(replace(rt.settings, queue_url="redis://:secret@h:6380/2"))
    assert location == "redis://h:6380/2"


def test_describe_says_what_changed_or_why_nothing_did() -> None:
    assert jobs.describe(PublishReport(inserted=2, deleted=1, unchanged=5)) == (
        "2 added, 1 removed; 5 unchanged"
    )
    assert jobs.describe(PublishReport(unchanged=5)) == "up to date (5 events unchanged)"
    assert jobs.describe(PublishReport("not_connected", "no Google Calendar connection")) == (
        "no Google Calendar connection"
    )
