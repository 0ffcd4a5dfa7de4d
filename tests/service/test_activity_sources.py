"""One run, one activity: the same run from a file, Strava and intervals.icu, on real databases."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.files.sources import Walk
from integrations.intervals_icu import mapping as intervals_mapping
from integrations.strava import mapping as strava_mapping
from integrations.types import ExternalActivity, Sport
from service.app import Runtime
from service.models import Activity, ActivitySource
from service.usecases.activity_sources import (
    IngestReport,
    ingest,
    remove_all_from_source,
    remove_from_source,
)
from service.usecases.import_files import Outcome, import_sources
from service.usecases.runners import default_runner
from tests.fakes.strava_api import activity_body

RUN_FIT = "fit/run.fit"  # a 3.6 km run, 2024-05-12 07:00 UTC, Berlin summer time, 12 m up
FIT_START = datetime(2024, 5, 12, 7, 0, tzinfo=UTC)


def _strava(
    activity_id: int = 111, start: datetime | None = None, **fields: Any
) -> ExternalActivity:
    """The run as Strava has it: 40 s later, a little shorter, titled, marked a race."""
    body: dict[str, Any] = {"distance": 3590.0, "moving_time": 1190, "elapsed_time": 1250,
            "total_elevation_gain": 15.0, "name": "Sunday shakeout", "workout_type": 1}  # fmt: skip
    body.update(fields)
    start = start or FIT_START + timedelta(seconds=40)
    raw = activity_body(activity_id, 77, start, "Europe/Berlin", **body)
    return strava_mapping.activity_from_json(raw)


def _intervals(activity_id: str = "i901") -> ExternalActivity:
    """The run as intervals.icu has it (from the watch): no elevation, a generic name."""
    raw = {"id": activity_id, "type": "Run", "name": "Morning Run", "distance": 3620.0,
           "start_date": "2024-05-12T06:59:30Z", "start_date_local": "2024-05-12T08:59:30",
           "moving_time": 1195, "elapsed_time": 1210, "total_elevation_gain": None}  # fmt: skip
    return intervals_mapping.activity_from_json(raw)


def _ingest(rt: Runtime, *activities: ExternalActivity, origin: str = "platform") -> IngestReport:
    with rt.db.session() as session:
        return ingest(session, default_runner(session), activities, origin)


def _remove(rt: Runtime, source: str, source_id: str) -> bool:
    with rt.db.session() as session:
        return remove_from_source(session, default_runner(session), source, source_id)


def _import_fit(rt: Runtime, data_dir: Path) -> Outcome:
    with rt.db.session() as session:
        runner_id = default_runner(session).id
    sources = Walk([data_dir / RUN_FIT]).sources()
    return import_sources(rt.db, runner_id, sources).files[0].outcome


def _stored(rt: Runtime) -> list[tuple[Activity, list[tuple[str, str]]]]:
    """Every activity with its (source, source_id) links, by start."""
    with rt.db.session() as session:
        rows = []
        for activity in session.scalars(select(Activity).order_by(Activity.start_utc)):
            links = session.execute(
                select(ActivitySource.source, ActivitySource.source_id)
                .where(ActivitySource.activity_id == activity.id)
                .order_by(ActivitySource.source)
            )
            rows.append((activity, [(s, i) for s, i in links]))
        session.expunge_all()
        return rows


@pytest.mark.parametrize("order", list(itertools.permutations(("fit", "strava", "intervals"))))
def test_the_same_run_from_a_file_strava_and_intervals_is_one_activity_in_any_order(
    rt: Runtime, data_dir: Path, order: tuple[str, ...]
) -> None:
    arrive: dict[str, Callable[[], object]] = {
        "fit": lambda: _import_fit(rt, data_dir),
        "strava": lambda: _ingest(rt, _strava()),
        "intervals": lambda: _ingest(rt, _intervals()),
    }
    for name in order:
        arrive[name]()
    [(run, links)] = _stored(rt)
    assert [source for source, _ in links] == ["fit", "intervals_icu", "strava"]
    # The FIT file's own numbers win; what it lacks comes from a platform: the race flag from
    # Strava, a title from whichever platform filled it first (no per-field origin is stored).
    assert (run.source, run.start_utc, run.distance_m) == ("fit", FIT_START, 3600.0)
    assert (run.moving_s, run.elapsed_s, run.elevation_gain_m) == (1200.0, 1200.0, 12.0)
    assert (run.is_race, run.sport, run.utc_offset_s) == (True, "run", 7200)
    assert run.name in {"Sunday shakeout", "Morning Run"}
    assert run.local_date == date(2024, 5, 12)


def test_a_platform_twin_of_an_imported_file_is_linked_and_the_file_reports_a_duplicate(
    rt: Runtime, data_dir: Path
) -> None:
    report = _ingest(rt, _strava(), _intervals())
    assert (report.new, report.linked, report.updated) == (1, 1, 0)
    assert _import_fit(rt, data_dir) is Outcome.DUPLICATE
    [(run, links)] = _stored(rt)
    assert run.source == "fit"
    assert len(links) == 3


def test_deleting_the_run_at_strava_keeps_it_while_the_file_still_has_it(
    rt: Runtime, data_dir: Path
) -> None:
    _import_fit(rt, data_dir)
    _ingest(rt, _strava())
    assert _remove(rt, "strava", "111") is False
    [(run, links)] = _stored(rt)
    assert [source for source, _ in links] == ["fit"]
    assert (run.source, run.distance_m) == ("fit", 3600.0)


def test_deleting_the_run_at_every_source_deletes_it(rt: Runtime) -> None:
    _ingest(rt, _intervals(), _strava())
    assert _remove(rt, "strava", "111") is False
    [(run, _)] = _stored(rt)
    assert (run.source, run.source_id) == ("intervals_icu", "i901")  # the remaining source
    assert _remove(rt, "intervals_icu", "i901") is True
    assert _stored(rt) == []
    assert _remove(rt, "intervals_icu", "i901") is False  # a second delete event is harmless


def test_revoking_strava_deletes_only_the_runs_that_came_from_strava_alone(
    rt: Runtime, data_dir: Path
) -> None:
    _import_fit(rt, data_dir)
    later = FIT_START + timedelta(days=2)
    _ingest(rt, _strava(111), _strava(222, start=later), _intervals("i-other"))
    _ingest(rt, _strava(333, start=later + timedelta(days=1), sport_type="Ride"))
    with rt.db.session() as session:
        assert remove_all_from_source(session, default_runner(session), "strava") == 2
    [(run, links)] = _stored(rt)
    assert [source for source, _ in links] == ["fit", "intervals_icu"]
    assert run.name == "Sunday shakeout"  # fields stay; only Strava's link went


def test_the_same_strava_record_again_updates_the_activity_instead_of_adding_one(
    rt: Runtime,
) -> None:
    assert _ingest(rt, _strava()).new == 1
    with rt.db.session() as session:
        stamp = default_runner(session).plan_changed_at
    assert _ingest(rt, _strava()).unchanged == 1
    with rt.db.session() as session:
        assert default_runner(session).plan_changed_at == stamp  # nothing changed, nothing to do
    edited = _strava(name="Easy 4k", distance=4000.0, workout_type=None, sport_type="TrailRun")
    assert _ingest(rt, edited).updated == 1
    [(run, links)] = _stored(rt)
    assert links == [("strava", "111")]
    assert (run.name, run.distance_m, run.is_race) == ("Easy 4k", 4000.0, False)
    assert run.sport == Sport.TRAIL_RUN.value
    with rt.db.session() as session:
        assert default_runner(session).plan_changed_at > stamp


def test_two_strava_records_of_one_run_stay_two_activities_as_on_strava(rt: Runtime) -> None:
    report = _ingest(rt, _strava(111), _strava(112))
    assert (report.new, report.linked) == (2, 0)
    assert len(_stored(rt)) == 2


def test_a_ride_at_the_time_of_a_run_is_another_activity(rt: Runtime) -> None:
    report = _ingest(rt, _intervals(), _strava(sport_type="Ride"))
    assert report.new == 2


def test_every_imported_and_demo_activity_records_where_it_came_from(
    rt: Runtime, data_dir: Path
) -> None:
    assert _import_fit(rt, data_dir) is Outcome.IMPORTED
    demo = ExternalActivity("demo", "2024-06-01-easy", Sport.RUN, FIT_START + timedelta(30), 5e3)
    assert _ingest(rt, demo, origin="demo").new == 1
    stored = _stored(rt)
    assert [(a.source, links) for a, links in stored] == [
        ("fit", [("fit", stored[0][0].source_id)]),
        ("demo", [("demo", "2024-06-01-easy")]),
    ]
    assert stored[0][0].origin.endswith("run.fit")
