"""The import use case against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from integrations.files import read_file
from integrations.files.sources import Walk
from integrations.types import Sport
from service import db as dbmod
from service.app import Runtime, create_app, runtime
from service.models import Activity, ImportRecord
from service.usecases import activity_sources, import_files
from service.usecases.activity_sources import Change, ingest_one, is_same_activity
from service.usecases.import_files import Outcome, import_sources
from service.usecases.runners import default_runner

NACHTLAUF = "gpx/run_strava-export_Nachtlauf.gpx"
BIKE_TCX = "tcx/bike_stravalib_sample.tcx"


def _runner_id(rt: Runtime) -> int:
    with rt.db.session() as session:
        return default_runner(session).id


def _import(rt: Runtime, *paths: Path, sport: Sport | None = None) -> import_files.ImportReport:
    return import_sources(rt.db, _runner_id(rt), Walk(list(paths)).sources(), sport_override=sport)


def _count(rt: Runtime, model: type[Activity] | type[ImportRecord]) -> int:
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _labelled_copy(real_data: Path, tmp_path: Path) -> Path:
    """The Strava GPX again, now saying it was a run: another file, the same activity."""
    text = (real_data / NACHTLAUF).read_text(encoding="utf-8")
    labelled = tmp_path / "labelled.gpx"
    labelled.write_text(text.replace("<trkseg>", "<type>running</type><trkseg>", 1), "utf-8")
    return labelled


def test_the_same_activity_from_another_file_is_a_duplicate_that_fills_in_the_sport(
    rt: Runtime, real_data: Path, tmp_path: Path
) -> None:
    first = _import(rt, real_data / NACHTLAUF)
    assert first.files[0].outcome is Outcome.NOT_RUNNING
    second = _import(rt, _labelled_copy(real_data, tmp_path))
    assert second.files[0].outcome is Outcome.DUPLICATE
    with rt.db.session() as session:
        stored = session.scalars(select(Activity)).one()
        assert stored.sport == "run"


def test_a_ride_at_the_same_time_as_a_run_is_not_a_duplicate(rt: Runtime, real_data: Path) -> None:
    run = read_file((real_data / NACHTLAUF).read_bytes(), "x.gpx").activities[0]
    ride = replace(run, sport=Sport.RIDE, source="tcx", source_id="other#0")
    with rt.db.session() as session:
        runner = default_runner(session)
        assert ingest_one(session, runner, replace(run, sport=Sport.RUN), "a") is Change.NEW
        assert ingest_one(session, runner, ride, "b") is Change.NEW
    twin = replace(run, sport=Sport.RUN, source="fit", source_id="twin#0")
    assert is_same_activity(twin, replace(twin, distance_m=run.distance_m * 1.02))
    assert not is_same_activity(twin, replace(twin, distance_m=run.distance_m * 1.04))


def test_a_file_is_stored_all_or_nothing(
    rt: Runtime, real_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = read_file((real_data / BIKE_TCX).read_bytes(), "ride.tcx")
    second = replace(
        parsed.activities[0],
        source_id="leg#1",
        start_utc=parsed.activities[0].start_utc.replace(hour=20),
    )
    two_legs = replace(parsed, activities=[parsed.activities[0], second])
    monkeypatch.setattr(import_files, "read_file", lambda data, name: two_legs)
    real_new = activity_sources.new_activity

    def fail_on_second_leg(runner, import_id, origin, activity):  # type: ignore[no-untyped-def]
        if activity.source_id == "leg#1":
            raise RuntimeError("disk on fire")
        return real_new(runner, import_id, origin, activity)

    monkeypatch.setattr(activity_sources, "new_activity", fail_on_second_leg)
    report = _import(rt, real_data / BIKE_TCX)
    assert report.files[0].outcome is Outcome.REJECTED
    assert _count(rt, Activity) == 0
    with rt.db.session() as session:
        assert session.scalars(select(ImportRecord.status)).all() == ["rejected"]


def test_a_rejected_file_is_recorded_once_however_often_it_is_imported(
    rt: Runtime, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.gpx"
    bad.write_text("<gpx><trk><trkseg><trkpt lat=", encoding="utf-8")
    for _ in range(3):
        assert _import(rt, bad).files[0].outcome is Outcome.REJECTED
    assert _count(rt, ImportRecord) == 1


def test_a_file_imported_again_is_recognised_by_its_content(
    rt: Runtime, real_data: Path, tmp_path: Path
) -> None:
    shutil.copy(real_data / BIKE_TCX, tmp_path / "renamed.tcx")
    _import(rt, real_data / BIKE_TCX)
    again = _import(rt, tmp_path / "renamed.tcx")
    assert (again.files[0].outcome, again.files[0].detail) == (
        Outcome.DUPLICATE,
        "already imported",
    )
    assert (_count(rt, Activity), _count(rt, ImportRecord)) == (1, 1)


def _snapshot(rt: Runtime) -> list[tuple[str, str, float, str]]:
    with rt.db.session() as session:
        rows = session.execute(
            select(Activity.source_id, Activity.sport, Activity.distance_m, Activity.local_date)
        )
        return sorted((a, b, c, str(d)) for a, b, c, d in rows)


def _pool(real_data: Path) -> list[Path]:
    return sorted(p for p in real_data.rglob("*") if p.suffix in {".fit", ".gpx", ".tcx"})


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_import_is_idempotent_for_any_files_in_any_order(
    data: st.DataObject, real_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    pool = _pool(real_data)
    chosen = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6))
    replay = data.draw(st.permutations(chosen))
    folder = tmp_path_factory.mktemp("db")
    app = create_app({"data_dir": str(folder), "database_url": f"sqlite:///{folder / 't.db'}"})
    rt = runtime(app)
    dbmod.upgrade(rt.db.engine)
    _import(rt, *chosen)
    first = _snapshot(rt), _count(rt, ImportRecord)
    report = _import(rt, *replay)
    assert all(f.outcome in {Outcome.DUPLICATE, Outcome.REJECTED} for f in report.files)
    assert (_snapshot(rt), _count(rt, ImportRecord)) == first
    rt.db.dispose()
