"""The Strava read scheduler: reconciles get only what webhook work leaves, most of it in quiet
quarters, never more than the day holds; the most overdue runners go first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from huey import MemoryHuey, SqliteHuey  # type: ignore[import-untyped]

from integrations.strava.limits import Budget, RateUsage
from service import db as dbmod
from service.app import Runtime
from service.jobs import Jobs
from service.models import Connection, Runner
from service.queue_store import QueueStore
from service.usecases import strava_schedule as sched
from service.usecases.strava_schedule import Demand, ReadLimits, reconcile_allowance

LIMITS = ReadLimits(quarter=100, day=1000)
MIDNIGHT = datetime(2026, 12, 2, tzinfo=UTC)


def _at(slot: int) -> datetime:
    return MIDNIGHT + timedelta(minutes=15 * slot, seconds=30)


def _demand(**reads_by_slot: float) -> Demand:
    """A learnt history: every quarter needs ``rest`` reads, except the ones named."""
    rest = reads_by_slot.pop("rest", 0.0)
    values = [rest] * sched.QUARTERS
    for name, reads in reads_by_slot.items():
        values[int(name.removeprefix("q"))] = reads
    return Demand(tuple(values))


def test_a_day_of_allowances_never_takes_reads_webhook_work_needs() -> None:
    demand = _demand(rest=4.0, q30=40.0, q72=60.0)  # a morning and an evening peak
    spent_day = 0
    for slot in range(sched.QUARTERS):
        events = demand.reads[slot] or 0.0
        allowed = reconcile_allowance(LIMITS, demand, _at(slot), (0, spent_day))
        assert allowed + events <= LIMITS.quarter - sched.QUARTER_MARGIN
        spent_day += allowed + int(events)
    assert spent_day <= LIMITS.day - sched.DAY_MARGIN


def test_reconciles_go_to_quiet_quarters_rather_than_busy_ones() -> None:
    demand = _demand(rest=2.0, q30=55.0)
    busy = reconcile_allowance(LIMITS, demand, _at(30), (0, 300))
    quiet = reconcile_allowance(LIMITS, demand, _at(31), (0, 300))
    assert busy < quiet


def test_a_quarter_whose_webhook_work_fills_it_gets_no_reconcile() -> None:
    demand = _demand(rest=1.0, q40=60.0)  # 60 x 1.5 headroom + margin fills 100
    assert reconcile_allowance(LIMITS, demand, _at(40), (0, 0)) == 0


def test_no_reconcile_once_the_day_is_spent() -> None:
    assert reconcile_allowance(LIMITS, _demand(rest=1.0), _at(50), (0, 990)) == 0


def test_reads_already_spent_this_quarter_come_off_its_allowance() -> None:
    fresh = reconcile_allowance(LIMITS, _demand(rest=0.0), _at(95), (0, 0))
    spent = reconcile_allowance(LIMITS, _demand(rest=0.0), _at(95), (70, 0))
    assert fresh == LIMITS.quarter - sched.QUARTER_MARGIN
    assert spent == fresh - 70


def test_with_webhooks_the_safety_net_keeps_to_its_share_of_the_day() -> None:
    demand = _demand(rest=0.0)
    share = sched.SAFETY_NET_SHARE
    late = reconcile_allowance(LIMITS, demand, _at(95), (0, 0), share=share, reconciled_today=100)
    assert late == int(share * LIMITS.day) - 100
    done = reconcile_allowance(LIMITS, demand, _at(95), (0, 0), share=share, reconciled_today=150)
    assert done == 0


def test_an_unknown_quarter_assumes_webhooks_need_half_the_even_share() -> None:
    assert Demand().expected(0, LIMITS) == pytest.approx(
        sched.PRIOR_SHARE * LIMITS.day / sched.QUARTERS
    )


def test_history_moves_halfway_toward_each_new_day() -> None:
    demand = Demand().learn(10, 20.0).learn(10, 40.0)
    assert demand.reads[10] == pytest.approx(30.0)
    assert demand.reads[11] is None


def test_the_limits_strava_reports_win_when_they_are_lower(rt: Runtime) -> None:
    usage = RateUsage(Budget(200, 0, 2000, 0), Budget(50, 0, 500, 0), MIDNIGHT)
    assert ReadLimits.of(rt.settings, usage) == ReadLimits(50, 500)
    raised = RateUsage(Budget(600, 0, 6000, 0), Budget(300, 0, 3000, 0), MIDNIGHT)
    assert ReadLimits.of(rt.settings, raised) == ReadLimits(100, 1000)


def test_usage_from_an_earlier_window_counts_as_nothing_spent() -> None:
    usage = RateUsage(Budget(200, 9, 2000, 90), Budget(100, 8, 1000, 80), _at(3))
    assert sched.used(usage, _at(3)) == (8, 80)
    assert sched.used(usage, _at(4)) == (0, 80)
    assert sched.used(usage, _at(3) + timedelta(days=1)) == (0, 0)


@pytest.fixture
def schedule_rt(rt: Runtime) -> Iterator[Runtime]:
    dbmod.upgrade(rt.db.engine)
    yield rt
    rt.db.dispose()


def _strava_runner(
    rt: Runtime,
    reconciled_at: datetime | None,
    state: str = "connected",
    owed_since: datetime | None = None,
) -> int:
    with rt.db.session() as db:
        runner = Runner(name="", timezone="Europe/Berlin")
        db.add(runner)
        db.flush()
        db.add(Connection(runner_id=runner.id, provider="strava", state=state,
                          account=str(runner.id), reconciled_at=reconciled_at,
                          owed_since=owed_since))  # fmt: skip
        return runner.id


def test_the_longest_unreconciled_runners_go_first(schedule_rt: Runtime) -> None:
    now = _at(40)
    week_ago = _strava_runner(schedule_rt, now - timedelta(days=7))
    owed = _strava_runner(schedule_rt, None)
    two_days = _strava_runner(schedule_rt, now - timedelta(days=2))
    _strava_runner(schedule_rt, now - timedelta(hours=3))  # not due
    _strava_runner(schedule_rt, None, state="needs_reconnect")
    assert sched.due_runners(schedule_rt.db, now, timedelta(days=1), 10) == [week_ago, two_days]
    assert sched.due_runners(schedule_rt.db, now, timedelta(days=1), 1) == [week_ago]
    assert sched.owed_runners(schedule_rt.db, 10) == [owed]


def test_runners_owed_a_read_are_served_in_the_order_they_became_owed(
    schedule_rt: Runtime,
) -> None:
    now = _at(20)
    recent = now - timedelta(hours=1)
    third = _strava_runner(schedule_rt, recent, owed_since=now - timedelta(minutes=5))
    first = _strava_runner(schedule_rt, recent, owed_since=now - timedelta(hours=9))
    second = _strava_runner(schedule_rt, recent, owed_since=now - timedelta(hours=2))
    assert sched.owed_runners(schedule_rt.db, 10) == [first, second, third]
    assert sched.due_runners(schedule_rt.db, now, timedelta(minutes=15), 10) == []


def test_runners_owed_a_read_go_before_the_safety_net_and_beyond_its_share(
    schedule_rt: Runtime,
) -> None:
    now = _at(60)
    owed = [_strava_runner(schedule_rt, None) for _ in range(5)]
    stale = [_strava_runner(schedule_rt, now - timedelta(days=3)) for _ in range(3)]
    store = QueueStore(_jobs(schedule_rt, now).huey)
    store.set_subscription(7)
    store.grant(sched.quarter_index(now) - 1, 150)  # the safety net's share of today is spent
    plan = sched.plan_quarter(schedule_rt.db, schedule_rt.settings, store, now)
    assert plan.runners == owed
    assert plan.safety_net == 0
    assert not set(stale) & set(plan.runners)


def _jobs(rt: Runtime, now: datetime, huey: Any = None) -> Jobs:
    huey = huey or MemoryHuey(f"schedule-{uuid.uuid4().hex[:8]}", immediate=False)
    return Jobs(huey, rt, clock=lambda: now)


def test_each_quarter_the_scheduler_spreads_the_due_reconciles(schedule_rt: Runtime) -> None:
    now = _at(8)
    ids = [_strava_runner(schedule_rt, None) for _ in range(4)]
    jobs = _jobs(schedule_rt, now)
    plan = jobs.plan_strava_quarter()
    assert plan.runners == ids
    assert not plan.webhooks  # no subscription: polling
    scheduled = sorted(jobs.huey.pending(), key=lambda t: t.eta)
    assert [t.args[0] for t in scheduled] == ids
    etas = [t.eta for t in scheduled]
    assert etas[-1] - etas[0] >= timedelta(minutes=8)  # spread, not a burst


def test_a_quarter_is_planned_once_however_many_consumers_tick(
    schedule_rt: Runtime, tmp_path: Path
) -> None:
    ids = [_strava_runner(schedule_rt, None) for _ in range(3)]
    queue_file = str(tmp_path / "queue.db")  # two consumer processes' views of one queue
    first = _jobs(schedule_rt, _at(30), SqliteHuey("two", filename=queue_file))
    second = _jobs(schedule_rt, _at(30), SqliteHuey("two", filename=queue_file))
    assert first.plan_strava_quarter().runners == ids
    assert second.plan_strava_quarter().runners == []
    assert len(first.huey.pending()) == 3
    later = _jobs(schedule_rt, _at(31), SqliteHuey("two", filename=queue_file))
    assert later.plan_strava_quarter().runners == ids  # the next quarter is planned again


def test_webhook_work_last_quarter_shrinks_the_next_allowance(schedule_rt: Runtime) -> None:
    for _ in range(200):
        _strava_runner(schedule_rt, None)
    settings = replace(schedule_rt.settings, strava_read_limit_15min=100)
    quiet = _jobs(schedule_rt, _at(9))
    store = QueueStore(quiet.huey)
    store.set_subscription(7)
    baseline = sched.plan_quarter(schedule_rt.db, settings, store, _at(9)).owed
    busy = _jobs(schedule_rt, _at(9))
    busy_store = QueueStore(busy.huey)
    busy_store.set_subscription(7)
    seen = RateUsage(Budget(200, 70, 2000, 70), Budget(100, 70, 1000, 70), _at(8))
    busy_store.save(seen)  # 70 reads in quarter 8, none of them reconciles
    sched.plan_quarter(schedule_rt.db, settings, busy_store, _at(8) - timedelta(seconds=20))
    shrunk = sched.plan_quarter(schedule_rt.db, settings, busy_store, _at(9)).owed
    assert busy_store.demand() is not None
    assert shrunk < baseline
