"""`runstrength plan` and `runstrength session` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import vobject

from tests.conftest import Cli

TODAY = "2026-11-22"  # the sample block's last Sunday
NEXT_WEEK = "2026-11-23"


@pytest.fixture
def sample_runner(cli: Cli, data_dir: Path) -> Cli:
    assert cli("db", "upgrade").code == 0
    prefs = data_dir / "prefs" / "berlin_evenings.toml"
    assert cli("runner", "set", "--prefs", str(prefs)).code == 0
    assert cli("import", str(data_dir / "sample" / "activities")).code == 0
    return cli


def _plan(cli: Cli, weeks: int = 1) -> Any:
    return cli.json("plan", "--today", TODAY, "--start", NEXT_WEEK, "--weeks", str(weeks))


def _sessions(plan: Any) -> list[Any]:
    return [s for week in plan["weeks"] for s in week["sessions"]]


def test_the_plan_json_has_the_shape_the_design_fixes(sample_runner: Cli) -> None:
    plan = _plan(sample_runner, weeks=2)
    assert plan["runner"] == {"timezone": "Europe/Berlin", "units": "km", "week_start": "monday"}
    week = plan["weeks"][0]
    assert set(week) >= {
        "week_start",
        "phase",
        "deload",
        "mileage_km",
        "load_ratio",
        "days",
        "sessions",
        "skipped",
    }
    assert week["week_start"] == NEXT_WEEK
    assert week["days"][0]["date"] == NEXT_WEEK
    assert len(week["days"]) == 7
    assert {d["run"] for d in week["days"]} <= {"none", "easy", "hard", "long", "race"}
    for session in _sessions(plan):
        assert set(session) >= {
            "uid",
            "date",
            "start",
            "end",
            "kind",
            "variant",
            "title",
            "duration_min",
            "exercises",
            "why",
        }
        start, end = (
            datetime.fromisoformat(session["start"]),
            datetime.fromisoformat(session["end"]),
        )
        assert start.utcoffset() is not None
        assert start.date().isoformat() == session["date"]
        assert (end - start).total_seconds() == session["duration_min"] * 60
        assert session["why"]
        for exercise in session["exercises"]:
            assert len({"reps", "hold_s", "minutes"} & set(exercise)) == 1


def test_the_stored_long_run_and_interval_days_shape_the_week(sample_runner: Cli) -> None:
    days = {d["date"]: d["run"] for d in _plan(sample_runner)["weeks"][0]["days"]}
    assert days["2026-11-24"] == "hard"  # Tuesday intervals
    assert days["2026-11-29"] == "long"  # Sunday long run


def test_a_rebuild_gives_the_same_plan(sample_runner: Cli) -> None:
    assert _plan(sample_runner, 2) == _plan(sample_runner, 2)


def test_a_skipped_session_leaves_the_plan_and_says_the_runner_chose_it(sample_runner: Cli) -> None:
    uid = _sessions(_plan(sample_runner))[0]["uid"]
    assert sample_runner("session", "skip", uid, "--today", TODAY).code == 0
    plan = _plan(sample_runner)
    assert uid not in {s["uid"] for s in _sessions(plan)}
    skipped = plan["weeks"][0]["skipped"]
    assert any(s.get("uid") == uid and s["rule"] == "runner-skipped" for s in skipped)
    assert sample_runner("session", "restore", uid).code == 0
    assert uid in {s["uid"] for s in _sessions(_plan(sample_runner))}


def test_a_moved_session_stays_where_the_runner_put_it(sample_runner: Cli) -> None:
    core = next(s for s in _sessions(_plan(sample_runner)) if s["kind"] == "core")
    result = sample_runner(
        "session", "move", core["uid"], "--to", "2026-11-27 19:00", "--today", TODAY
    )
    assert result.code == 0, result.err
    moved = next(s for s in _sessions(_plan(sample_runner)) if s["uid"] == core["uid"])
    assert moved["start"] == "2026-11-27T19:00:00+01:00"
    assert moved["duration_min"] == core["duration_min"]


def test_moving_upper_body_to_the_day_before_the_long_run_is_kept_but_reported(
    sample_runner: Cli,
) -> None:
    upper = next(s for s in _sessions(_plan(sample_runner)) if s["kind"] == "upper_body")
    result = sample_runner(
        "session", "move", upper["uid"], "--to", "2026-11-28 09:00", "--today", TODAY
    )
    assert result.code == 0
    assert "warning" in result.err
    week = _plan(sample_runner)["weeks"][0]
    assert any(s["uid"] == upper["uid"] for s in week["sessions"])
    assert any(c.get("uid") == upper["uid"] for c in week["conflicts"])


def test_a_locked_session_keeps_its_slot(sample_runner: Cli) -> None:
    first = _sessions(_plan(sample_runner))[0]
    assert sample_runner("session", "lock", first["uid"], "--today", TODAY).code == 0
    again = next(s for s in _sessions(_plan(sample_runner)) if s["uid"] == first["uid"])
    assert again["start"] == first["start"]
    assert again["override"] == "lock"


def test_an_unknown_session_uid_is_a_one_line_error(sample_runner: Cli) -> None:
    result = sample_runner("session", "skip", "nosuchsession")
    assert result.code == 1
    assert "nosuchsession" in result.err
    assert "Traceback" not in result.err


def test_the_ics_output_holds_every_session_once(sample_runner: Cli) -> None:
    plan = _plan(sample_runner, 2)
    result = sample_runner("plan", "--today", TODAY, "--start", NEXT_WEEK, "--weeks", "2", "--ics")
    assert result.code == 0, result.err
    calendar = vobject.readOne(result.out, validate=True)
    uids = sorted(event.uid.value for event in calendar.vevent_list)
    assert uids == sorted(s["uid"] for s in _sessions(plan))


def test_the_stateless_mode_plans_from_files_without_a_database(
    cli: Cli, data_dir: Path, tmp_path: Path
) -> None:
    result = cli(
        "plan",
        "--from",
        str(data_dir / "sample" / "activities"),
        "--prefs",
        str(data_dir / "prefs" / "berlin_evenings.toml"),
        "--today",
        TODAY,
        "--start",
        NEXT_WEEK,
        "--json",
    )
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert {d["date"]: d["run"] for d in plan["weeks"][0]["days"]}["2026-11-29"] == "long"
    assert _sessions(plan)
    assert not (tmp_path / "data").exists()  # nothing was stored


def test_preferences_without_files_are_a_usage_error(cli: Cli, data_dir: Path) -> None:
    result = cli("plan", "--prefs", str(data_dir / "prefs" / "berlin_evenings.toml"))
    assert result.code == 1
    assert "runner set --prefs" in result.err
