"""/api/v1/preferences, /api/v1/export and /api/v1/account: the runner's own data over JSON."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from integrations.files.sources import Walk
from service.app import runtime
from service.models import Activity, Runner
from service.usecases.api_tokens import create_token
from service.usecases.import_files import import_sources
from service.usecases.runners import default_runner
from tests.service.test_runner_data import refers_to_runner
from tests.service.web.conftest import Member, csrf

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "activities"
PREFS_FILE = Path(__file__).resolve().parents[2] / "data" / "prefs" / "berlin_evenings.toml"


def _token(app: Flask, member: Member) -> dict[str, str]:
    with runtime(app).db.session() as db:
        _info, token = create_token(db, member.runner_id, "script")
    return {"Authorization": f"Bearer {token}"}


def _runner(app: Flask, runner_id: int) -> Runner | None:
    with runtime(app).db.session() as db:
        runner = db.get(Runner, runner_id)
        if runner is not None:
            db.expunge(runner)
        return runner


def _json(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_json()


def test_the_preferences_file_round_trips_through_put_and_get(member: Member) -> None:
    prefs = tomllib.loads(PREFS_FILE.read_text())
    stored = _json(member.api("PUT", "/api/v1/preferences", prefs))
    assert _json(member.client.get("/api/v1/preferences")) == stored
    for key, value in prefs.items():
        if key not in ("equipment", "run_times"):
            assert stored[key] == value, key
    assert stored["equipment"] == ["bands", "dumbbells"]


def test_a_partial_put_changes_only_its_keys_and_null_resets_one(
    app: Flask, member: Member
) -> None:
    before = _json(member.client.get("/api/v1/preferences"))
    assert before["units"] == "km"
    assert before["timezone"] == "Europe/Berlin"
    after = _json(
        member.api("PUT", "/api/v1/preferences", {"units": "mi", "long_run_day": "sat"}), 400
    )
    assert "long_run_day" in after["error"]
    after = _json(
        member.api("PUT", "/api/v1/preferences", {"units": "mi", "long_run_day": "saturday"})
    )
    assert {**before, "units": "mi", "long_run_day": "saturday"} == after
    reset = _json(member.api("PUT", "/api/v1/preferences", {"long_run_day": None}))
    assert "long_run_day" not in reset
    runner = _runner(app, member.runner_id)
    assert runner is not None
    assert runner.units == "mi"


def test_a_bad_value_is_named_and_nothing_is_stored(app: Flask, member: Member) -> None:
    before = _json(member.client.get("/api/v1/preferences"))
    body = {"units": "mi", "availability": {"monday": ["25:00-26:00"]}, "hard_days": ["someday"]}
    error = _json(member.api("PUT", "/api/v1/preferences", body), 400)["error"]
    assert "availability.monday" in error
    assert "hard_days" in error
    assert "units" not in error
    assert _json(member.client.get("/api/v1/preferences")) == before
    bad: Any
    for bad in ([], "units=mi", {"race": {"date": 7}}, {"equipment": [[1]]}, {"nope": 1}):
        response = member.api("PUT", "/api/v1/preferences", bad)
        assert response.status_code == 400, bad
        assert response.get_json()["error"]
    assert _json(member.client.get("/api/v1/preferences")) == before


def test_the_export_holds_the_runner_s_activities_and_nothing_of_another(
    app: Flask, member: Member, other: Member
) -> None:
    rt = runtime(app)
    import_sources(rt.db, member.runner_id, Walk([SAMPLE / "2026-11-11_0703_easy.gpx"]).sources())
    import_sources(rt.db, other.runner_id, Walk([SAMPLE / "2026-11-15_0904_long.tcx"]).sources())
    exported = _json(member.client.get("/api/v1/export"))
    assert [Path(a["origin"]).name for a in exported["activities"]] == ["2026-11-11_0703_easy.gpx"]
    assert exported["account"] == {
        "email": member.email,
        "created_at": exported["account"]["created_at"],
    }
    theirs = _json(other.client.get("/api/v1/export", headers=_token(app, other)))
    assert [Path(a["origin"]).name for a in theirs["activities"]] == ["2026-11-15_0904_long.tcx"]
    assert [t["name"] for t in theirs["api_tokens"]] == ["script"]
    assert "token_hash" not in str(theirs)


def test_another_runner_cannot_read_or_change_these_preferences(
    app: Flask, member: Member, other: Member
) -> None:
    _json(member.api("PUT", "/api/v1/preferences", {"units": "mi", "preferred_time": "morning"}))
    theirs = _json(other.client.get("/api/v1/preferences"))
    assert (theirs["units"], theirs["preferred_time"]) == ("km", "evening")
    _json(other.api("PUT", "/api/v1/preferences", {"units": "km", "preferred_time": "midday"}))
    token = _token(app, other)
    response = other.client.put("/api/v1/preferences", json={"week_start": "sunday"}, headers=token)
    assert _json(response)["week_start"] == "sunday"
    mine = _json(member.client.get("/api/v1/preferences"))
    assert (mine["units"], mine["preferred_time"], mine["week_start"]) == (
        "mi",
        "morning",
        "monday",
    )
    assert other.email not in str(_json(member.client.get("/api/v1/export")))


def test_deleting_the_account_needs_its_email_and_then_removes_everything(
    app: Flask, member: Member, other: Member
) -> None:
    rt = runtime(app)
    import_sources(rt.db, member.runner_id, Walk([SAMPLE]).sources())
    token = _token(app, member)
    wrong = _json(member.api("DELETE", "/api/v1/account", {"confirm": other.email}), 400)
    assert wrong["error"].startswith("confirm:")
    assert _json(other.api("DELETE", "/api/v1/account", {"confirm": member.email}), 400)
    assert _json(member.api("DELETE", "/api/v1/account", {}), 400)
    assert _runner(app, member.runner_id) is not None
    assert _json(member.api("DELETE", "/api/v1/account", {"confirm": member.email})) == {
        "deleted": True
    }
    with rt.db.session() as db:
        assert refers_to_runner(db, member.runner_id, set()) == {}
    assert member.client.get("/api/v1/preferences").status_code == 401
    assert app.test_client().get("/api/v1/preferences", headers=token).status_code == 401
    assert _runner(app, other.runner_id) is not None


def test_a_token_deletes_without_csrf_and_single_runner_mode_starts_afresh(
    sample_app: Flask,
) -> None:
    client = sample_app.test_client()
    wrong = client.delete("/api/v1/account", json={"confirm": "please"}, headers=_csrf(client))
    assert "DELETE" in _json(wrong, 400)["error"]
    done = client.delete("/api/v1/account", json={"confirm": "DELETE"}, headers=_csrf(client))
    assert _json(done) == {"deleted": True}
    with runtime(sample_app).db.session() as db:
        assert db.scalar(select(func.count()).select_from(Activity)) == 0
        assert default_runner(db).preferences == {}
    assert _json(client.get("/api/v1/preferences"))["units"] == "km"


def _csrf(client: Any) -> dict[str, str]:
    return {"X-CSRFToken": csrf(client, "/settings")}


def test_cookie_calls_without_the_csrf_header_are_refused(app: Flask, member: Member) -> None:
    put = member.client.put("/api/v1/preferences", json={"units": "mi"})
    assert put.status_code == 400
    delete = member.client.delete("/api/v1/account", json={"confirm": member.email})
    assert delete.status_code == 400
    runner = _runner(app, member.runner_id)
    assert runner is not None
    assert runner.units == "km"
    with_token = member.client.put(
        "/api/v1/preferences", json={"units": "mi"}, headers=_token(app, member)
    )
    assert _json(with_token)["units"] == "mi"


def test_the_routes_are_in_the_api_document(app: Flask) -> None:
    doc = _json(app.test_client().get("/api/v1/openapi.json"))
    assert set(doc["paths"]["/api/v1/preferences"]) == {"get", "put"}
    assert "delete" in doc["paths"]["/api/v1/account"]
    assert "get" in doc["paths"]["/api/v1/export"]
    for name in ("Preferences", "PreferencesChange", "Export", "DeleteAccount", "AccountDeleted"):
        assert name in doc["components"]["schemas"]
