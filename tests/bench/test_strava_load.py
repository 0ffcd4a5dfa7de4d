"""The Strava benchmark's simulation, small: it must keep working, and on a tight budget the
scheduler must still keep the installation inside the read limits with every run landing."""

from __future__ import annotations

from bench.strava_load import simulate
from service.usecases.strava_schedule import SAFETY_NET_SHARE
from tests.fakes.strava import Limits


def test_every_webhook_run_lands_within_seconds_and_each_read_does_one_job(
    database_url: str,
) -> None:
    report = simulate(runners=12, weeks=1, seed=5, database_url=database_url)
    assert report.uploaded > 40
    assert report.responses_429 == 0
    assert report.landed_within_15min == 1.0
    assert report.lateness_max_s < 60
    # one read per delivered create or update event and per reconcile, never more
    assert report.api_calls <= report.events_delivered + report.reconciles
    assert report.extra_at_end == 0
    assert report.missing_at_end <= report.events_lost


def test_on_a_tight_read_budget_reconciles_give_way_and_no_call_is_refused() -> None:
    tight = Limits(overall=(40, 400), read=(20, 200))
    report = simulate(runners=40, weeks=1, seed=9, limits=tight)
    assert report.uploaded > 150
    assert report.responses_429 == 0
    assert report.peak_15min_reads <= 20
    assert report.peak_day_reads <= 200
    assert report.job_waits == 0  # nothing even came close to a limit
    assert 0 < report.reconciles <= SAFETY_NET_SHARE * 200 * 7
    assert report.landed_within_15min == 1.0
    assert report.extra_at_end == 0
    assert report.missing_at_end <= report.events_lost
