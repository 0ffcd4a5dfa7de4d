"""A runner's own data: preferences merged and checked, everything exported, everything deleted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from integrations.files.sources import Walk
from service.app import Runtime
from service.models import Activity, Base, Feed, Runner, utcnow
from service.planning.model import OverrideAction
from service.usecases.accounts import sign_up
from service.usecases.api_tokens import create_token
from service.usecases.build_plan import plan_for_runner, plan_window, runner_preferences
from service.usecases.feeds import ensure_feed
from service.usecases.import_files import import_sources
from service.usecases.overrides import apply_override
from service.usecases.publish_plan import FULL, feed_for
from service.usecases.runner_data import (
    EXPORTED_TABLES,
    BadPreferences,
    current_preferences,
    delete_runner,
    export_runner,
    preferences_draft,
    update_preferences,
)
from service.usecases.runners import InvalidValue, default_runner

TODAY = date(2026, 11, 22)
NOW = datetime.fromisoformat("2026-11-22T10:00:00+00:00")


@dataclass
class Stored:
    runner_id: int
    email: str
    feed_id: int
    feed_token: str


def refers_to_runner(db: Session, runner_id: int, feed_ids: set[int]) -> dict[str, int]:
    """Rows in any table of the metadata that point at the runner or their feeds, by table."""
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            targets = {fk.column.table.name for fk in column.foreign_keys}
            if (
                (table.name == "runners" and column.name == "id")
                or column.name == "runner_id"
                or "runners" in targets
            ):
                match = column == runner_id
            elif column.name == "feed_id" or "feeds" in targets:
                match = column.in_(feed_ids or {-1})
            else:
                continue
            count = db.scalar(select(func.count()).select_from(table).where(match)) or 0
            if count:
                found[f"{table.name}.{column.name}"] = count
    return found


def runner_with_everything(rt: Runtime, data_dir: Path, email: str, files: list[str]) -> Stored:
    """A runner with an account, runs, an override, a rendered feed and an API token."""
    with rt.db.session() as db:
        runner_id = sign_up(db, email, "correct horse battery", "Europe/Berlin").runner_id
    folder = data_dir / "sample" / "activities"
    import_sources(rt.db, runner_id, Walk([folder / name for name in files]).sources())
    with rt.db.session() as db:
        runner = db.get_one(Runner, runner_id)
        plan = plan_for_runner(db, runner, plan_window(runner_preferences(runner), TODAY, None, 1))
        uid = next(s.uid for w in plan.weeks for s in w.sessions)
        apply_override(db, runner, uid, OverrideAction.SKIP, today=TODAY)
        feed, token = ensure_feed(db, runner, rt.secret)
        feed_for(db, feed, runner, settings=rt.settings, variant=FULL, now=utcnow())
        create_token(db, runner_id, "my script")
        return Stored(runner_id, email, feed.id, token)


EASY = ["2026-11-09_1830_easy.gpx.gz", "2026-11-11_0703_easy.gpx"]
LONG = ["2026-11-15_0904_long.tcx"]


@pytest.fixture
def two(rt: Runtime, data_dir: Path) -> tuple[Stored, Stored]:
    folder = data_dir / "sample" / "activities"
    for name in EASY + LONG:
        assert (folder / name).is_file(), name
    return (
        runner_with_everything(rt, data_dir, "a@example.com", EASY),
        runner_with_everything(rt, data_dir, "b@example.com", LONG),
    )


def _runner(db: Session, runner_id: int) -> Runner:
    return db.get_one(Runner, runner_id)


def test_a_partial_change_keeps_the_other_preferences_and_null_resets_a_key(rt: Runtime) -> None:
    with rt.db.session() as db:
        runner = default_runner(db)
        update_preferences(db, runner, {"long_run_day": "saturday", "units": "mi"})
        after = update_preferences(db, runner, {"preferred_time": "morning", "long_run_day": None})
    assert after["units"] == "mi"
    assert after["preferred_time"] == "morning"
    assert "long_run_day" not in after
    with rt.db.session() as db:
        assert current_preferences(default_runner(db)) == after


def test_an_unknown_key_is_refused_even_with_a_null_value(rt: Runtime) -> None:
    with rt.db.session() as db:
        runner = default_runner(db)
        with pytest.raises(BadPreferences, match="unknown preference"):
            update_preferences(db, runner, {"": None})
        with pytest.raises(BadPreferences, match="unknown preference"):
            update_preferences(db, runner, {"colour": None, "units": "mi"})
        assert current_preferences(runner).get("units") != "mi"


def test_every_bad_key_is_named_and_nothing_is_stored(rt: Runtime) -> None:
    with rt.db.session() as db:
        before = current_preferences(default_runner(db))
    bad = {
        "units": "furlongs",
        "availability": {"monday": ["21:00-18:00"]},
        "race": {"date": "2027-04-11", "distance_km": 0},
        "timezone": "Mars/Olympus_Mons",
        "colour": "blue",
    }
    with pytest.raises(BadPreferences) as caught, rt.db.session() as db:
        update_preferences(db, default_runner(db), {**bad, "preferred_time": "morning"})
    assert set(caught.value.problems) == {
        "units",
        "availability.monday",
        "race.distance_km",
        "timezone",
        "colour",
    }
    with rt.db.session() as db:
        assert current_preferences(default_runner(db)) == before


def test_a_rule_across_keys_is_refused_too(rt: Runtime) -> None:
    with pytest.raises(BadPreferences, match="min_session_minutes"), rt.db.session() as db:
        update_preferences(
            db, default_runner(db), {"min_session_minutes": 50, "max_session_minutes": 20}
        )


def test_the_draft_suggests_the_long_run_and_hard_days_the_runs_show(
    rt: Runtime, data_dir: Path
) -> None:
    with rt.db.session() as db:
        runner_id = default_runner(db).id
    import_sources(rt.db, runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    with rt.db.session() as db:
        draft = preferences_draft(db, _runner(db, runner_id), TODAY)
    assert draft.long_run_day == "sunday"
    assert draft.hard_days == ("tuesday",)
    assert not draft.onboarded


def test_the_export_holds_the_runner_s_data_and_no_secret_or_other_runner(
    rt: Runtime, two: tuple[Stored, Stored]
) -> None:
    a, b = two
    with rt.db.session() as db:
        exported = export_runner(db, _runner(db, a.runner_id), NOW)
        b_ids = set(db.scalars(select(Activity.id).where(Activity.runner_id == b.runner_id)))
        a_ids = set(db.scalars(select(Activity.id).where(Activity.runner_id == a.runner_id)))
        hashes = set(db.scalars(select(Feed.token_hash)))
    text = json.dumps(exported)
    assert {row["id"] for row in exported["activities"]} == a_ids
    assert not a_ids & b_ids
    assert {Path(row["origin"]).name for row in exported["activities"]} == set(EASY)
    assert len(exported["imports"]) == len(EASY)
    assert [o["action"] for o in exported["session_overrides"]] == ["skip"]
    assert exported["published_sessions"]
    assert exported["account"]["email"] == a.email
    assert [t["name"] for t in exported["api_tokens"]] == ["my script"]
    assert set(exported["feed"]) == {"rotated_at"}
    for secret in (a.feed_token, b.feed_token, b.email, *hashes, "password", "token_hash", "nonce"):
        assert secret not in text


def test_every_table_that_refers_to_a_runner_is_accounted_for_in_the_export() -> None:
    referring = {
        table.name
        for table in Base.metadata.sorted_tables
        if table.name == "runners"
        or any(c.name in ("runner_id", "feed_id") or c.foreign_keys for c in table.columns)
    }
    assert referring <= set(EXPORTED_TABLES), "add the new table to EXPORTED_TABLES"


def test_deleting_leaves_no_row_of_the_runner_and_keeps_the_other_runner(
    rt: Runtime, two: tuple[Stored, Stored]
) -> None:
    a, b = two
    with rt.db.session() as db:
        assert refers_to_runner(db, a.runner_id, {a.feed_id})
        before_b = refers_to_runner(db, b.runner_id, {b.feed_id})
        delete_runner(db, _runner(db, a.runner_id), " A@Example.com ", replace_with_new=False)
    with rt.db.session() as db:
        assert refers_to_runner(db, a.runner_id, {a.feed_id}) == {}
        assert refers_to_runner(db, b.runner_id, {b.feed_id}) == before_b


def test_a_wrong_confirmation_deletes_nothing(rt: Runtime, two: tuple[Stored, Stored]) -> None:
    a, b = two
    with pytest.raises(InvalidValue, match="email"), rt.db.session() as db:
        delete_runner(db, _runner(db, a.runner_id), b.email, replace_with_new=False)
    with rt.db.session() as db:
        assert "activities.runner_id" in refers_to_runner(db, a.runner_id, {a.feed_id})


def test_a_runner_without_account_confirms_with_delete_and_gets_a_fresh_runner(
    rt: Runtime, data_dir: Path
) -> None:
    with rt.db.session() as db:
        runner_id = default_runner(db).id
        update_preferences(db, default_runner(db), {"units": "mi"})
    import_sources(rt.db, runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    with pytest.raises(InvalidValue, match="DELETE"), rt.db.session() as db:
        delete_runner(db, _runner(db, runner_id), "yes", replace_with_new=True)
    with rt.db.session() as db:
        delete_runner(db, _runner(db, runner_id), "delete", replace_with_new=True)
    with rt.db.session() as db:
        fresh = default_runner(db)
        assert fresh.preferences == {}
        assert fresh.units == "km"
        assert db.scalar(select(func.count()).select_from(Activity)) == 0
        assert db.scalar(select(func.count()).select_from(Runner)) == 1
