from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from service import db as dbmod
from service.app import Runtime, create_app, runtime
from service.models import Activity, Runner


def test_a_fresh_database_is_refused_until_it_is_upgraded(overrides: dict[str, str]) -> None:
    engine = runtime(create_app(overrides)).db.engine
    with pytest.raises(dbmod.SchemaOutdated, match="runstrength db upgrade"):
        dbmod.check_schema(engine)
    before, after = dbmod.upgrade(engine)
    assert (before, after) == (None, dbmod.head_revision())
    dbmod.check_schema(engine)
    engine.dispose()


def test_an_older_schema_is_refused_with_the_command_to_run(rt: Runtime) -> None:
    with rt.db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    with pytest.raises(dbmod.SchemaOutdated, match=r"at 0000.*runstrength db upgrade"):
        dbmod.check_schema(rt.db.engine)


def test_upgrading_twice_changes_nothing(rt: Runtime) -> None:
    head = dbmod.head_revision()
    assert dbmod.upgrade(rt.db.engine) == (head, head)


def _activity(runner: Runner, start: datetime) -> Activity:
    return Activity(
        runner=runner,
        source="gpx",
        source_id="x#0",
        sport="run",
        start_utc=start,
        local_date=date(2026, 3, 1),
        distance_m=1000.0,
        fingerprint="f",
    )


def test_datetimes_come_back_aware_in_utc(rt: Runtime) -> None:
    start = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=1)))
    with rt.db.session() as session:
        runner = Runner(timezone="Europe/Berlin", units="km", week_start=0, preferences={})
        session.add(_activity(runner, start))
    with rt.db.session() as session:
        stored = session.query(Activity).one()
        assert stored.start_utc == start
        assert stored.start_utc.tzinfo is UTC
        assert stored.start_utc.hour == 22


def test_a_naive_datetime_is_never_stored(rt: Runtime) -> None:
    runner = Runner(timezone="UTC", units="km", week_start=0, preferences={})
    naive = _activity(runner, datetime(2026, 3, 1, 8, 0))
    with pytest.raises(Exception, match="naive datetime"), rt.db.session() as session:
        session.add(naive)


def test_deleting_a_runner_deletes_their_activities(app: Flask) -> None:
    rt = runtime(app)
    with rt.db.session() as session:
        runner = Runner(timezone="UTC", units="km", week_start=0, preferences={})
        session.add(_activity(runner, datetime(2026, 3, 1, 8, tzinfo=UTC)))
    with rt.db.session() as session:
        session.delete(session.query(Runner).one())
    with rt.db.session() as session:
        assert session.query(Activity).count() == 0


def test_upgrading_an_existing_install_gives_its_runners_a_plan_key(
    overrides: dict[str, str],
) -> None:
    from alembic import command

    engine = runtime(create_app(overrides)).db.engine
    command.upgrade(dbmod.alembic_config(engine), "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO runners (name, timezone, units, week_start, preferences, created_at)"
                " VALUES ('', 'UTC', 'km', 0, '{}', CURRENT_TIMESTAMP)"
            )
        )
    dbmod.upgrade(engine)
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT plan_key FROM runners")).scalars().all()
    assert len(keys) == 1
    assert len(keys[0]) == 32
    with Session(engine) as session:
        runner = session.query(Runner).one()
        assert runner.plan_changed_at.tzinfo is UTC
    engine.dispose()


def test_the_migrations_build_exactly_the_schema_the_models_describe(rt: Runtime) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from service.models import Base

    with rt.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
