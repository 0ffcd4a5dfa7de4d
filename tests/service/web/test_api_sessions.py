"""The session routes of the JSON API: the session with its state and conflicts, its slots, a
move preview, and move, skip, lock and restore, by cookie (with CSRF) or by API token."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask

from service.app import runtime
from service.usecases.api_tokens import create_token
from service.web.api_sessions_schemas import MOVE_PREVIEW, SESSION_STATE, SLOTS
from tests.service.web.conftest import Member
from tests.service.web.session_data import (
    FRIDAY_17,
    SATURDAY_10,
    Q,
    Week,
    give_runs,
    plan_week,
    stored_overrides,
)

RULE_2 = "rule-2-day-before-long-run"


@pytest.fixture
def week(app: Flask, member: Member, data_dir: Path) -> Week:
    return give_runs(app, member, data_dir)


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_session_answers_its_plan_json_with_state_and_conflicts(
    member: Member, week: Week
) -> None:
    session = week.of_kind("upper_body")
    body = _ok(member.client.get(f"/api/v1/sessions/{session['uid']}?{Q}"))
    assert {k: body[k] for k in session} == session
    assert body["state"] == "planned"
    assert body["week_start"] == "2026-11-23"
    assert body["conflicts"] == []


def test_the_slots_lie_in_the_session_s_week_and_name_the_rules_they_break(
    member: Member, week: Week
) -> None:
    session = week.of_kind("upper_body")
    body = _ok(member.client.get(f"/api/v1/sessions/{session['uid']}/slots?{Q}"))
    assert body["duration_min"] == session["duration_min"]
    starts = {datetime.fromisoformat(s["start"]): s for s in body["slots"]}
    assert all(s.date().isoformat() >= "2026-11-23" for s in starts)
    assert all(s.date().isoformat() <= "2026-11-29" for s in starts)
    assert [c["rule"] for c in starts[SATURDAY_10]["conflicts"]] == [RULE_2]
    assert starts[FRIDAY_17]["conflicts"] == []
    minutes = {(datetime.fromisoformat(s["end"]) - d).seconds // 60 for d, s in starts.items()}
    assert minutes == {session["duration_min"]}


def test_a_preview_names_the_rule_and_stores_nothing(
    app: Flask, member: Member, week: Week
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    body = _ok(member.client.get(f"/api/v1/sessions/{uid}/preview?{Q}&start=2026-11-28T10:00"))
    assert datetime.fromisoformat(body["start"]) == SATURDAY_10
    assert [(c["uid"], c["rule"]) for c in body["conflicts"]] == [(uid, RULE_2)]
    assert "long run" in body["conflicts"][0]["reason"]
    assert stored_overrides(app, member.runner_id) == 0


def test_a_move_keeps_the_uid_and_reports_the_rule_it_breaks(member: Member, week: Week) -> None:
    uid = week.of_kind("upper_body")["uid"]
    body = _ok(
        member.api("POST", f"/api/v1/sessions/{uid}/move?{Q}", {"start": SATURDAY_10.isoformat()})
    )
    assert body["uid"] == uid
    assert (body["state"], body["override"]) == ("moved", "move")
    assert datetime.fromisoformat(body["start"]) == SATURDAY_10
    assert [c["rule"] for c in body["conflicts"]] == [RULE_2]
    assert uid in [s["uid"] for s in plan_week(member)]


def test_a_local_time_without_offset_is_read_in_the_runner_s_zone(
    member: Member, week: Week
) -> None:
    uid = week.of_kind("core")["uid"]
    body = _ok(
        member.api("POST", f"/api/v1/sessions/{uid}/move?{Q}", {"start": "2026-11-27T17:00"})
    )
    assert body["start"] == "2026-11-27T17:00:00+01:00"


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"start": "tomorrow evening"}, "start: expected a date and time"),
        ({"start": 1764262800}, "start: expected a date and time as a string"),
        ({}, "start: expected a date and time as a string"),
        ({"start": "2026-12-04T18:00+01:00"}, "start: pick a time from"),
        ({"start": "2026-11-27T17:00:30"}, "start: use whole minutes"),
        ({"start": "2026-11-27T17:00", "when": "now"}, "unknown field 'when'"),
        (["2026-11-27T17:00"], "body: expected a JSON object"),
    ],
)
def test_a_bad_move_body_is_a_400_naming_the_field_and_stores_nothing(
    app: Flask, member: Member, week: Week, payload: Any, says: str
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    response = member.api("POST", f"/api/v1/sessions/{uid}/move?{Q}", payload)
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(says)
    assert stored_overrides(app, member.runner_id) == 0


def test_skip_then_restore_brings_the_session_back(app: Flask, member: Member, week: Week) -> None:
    session = week.of_kind("core")
    uid = session["uid"]
    skipped = _ok(member.api("POST", f"/api/v1/sessions/{uid}/skip?{Q}"))
    assert skipped["state"] == "skipped"
    assert skipped["not_placed"]["rule"] == "runner-skipped"
    assert "start" not in skipped
    assert skipped["exercises"]  # what it would hold, if put back
    refused = member.api("POST", f"/api/v1/sessions/{uid}/lock?{Q}")
    assert refused.status_code == 409
    restored = _ok(member.api("POST", f"/api/v1/sessions/{uid}/restore?{Q}"))
    assert restored["state"] == "planned"
    assert restored["start"] == session["start"]
    assert stored_overrides(app, member.runner_id) == 0


def test_lock_keeps_the_session_where_it_is(member: Member, week: Week) -> None:
    session = week.of_kind("cross_training")
    body = _ok(member.api("POST", f"/api/v1/sessions/{session['uid']}/lock?{Q}"))
    assert (body["state"], body["start"]) == ("locked", session["start"])


def test_restoring_an_untouched_session_is_a_409(member: Member, week: Week) -> None:
    uid = week.of_kind("core")["uid"]
    response = member.api("POST", f"/api/v1/sessions/{uid}/restore?{Q}")
    assert response.status_code == 409
    assert "nothing to restore" in response.get_json()["error"]


def test_a_cookie_post_without_the_csrf_header_is_refused(
    app: Flask, member: Member, week: Week
) -> None:
    uid = week.of_kind("core")["uid"]
    response = member.client.post(f"/api/v1/sessions/{uid}/skip?{Q}")
    assert response.status_code == 400
    assert stored_overrides(app, member.runner_id) == 0


def test_an_api_token_works_without_csrf(app: Flask, member: Member, week: Week) -> None:
    with runtime(app).db.session() as db:
        _info, token = create_token(db, member.runner_id, "script")
    uid = week.of_kind("core")["uid"]
    client = app.test_client()  # no cookie, no CSRF token
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"/api/v1/sessions/{uid}/skip?{Q}", headers=headers)
    assert _ok(response)["state"] == "skipped"
    assert stored_overrides(app, member.runner_id) == 1


def test_an_unknown_session_is_a_404_in_json(member: Member, week: Week) -> None:
    response = member.client.get(f"/api/v1/sessions/nosuchsession?{Q}")
    assert response.status_code == 404
    assert "nosuchsession" in response.get_json()["error"]


def test_another_runner_gets_404_on_every_session_route(
    app: Flask, member: Member, other: Member, week: Week
) -> None:
    uid = week.of_kind("upper_body")["uid"]
    base = f"/api/v1/sessions/{uid}"
    for path in (base, f"{base}/slots", f"{base}/preview?start=2026-11-27T17:00&"):
        sep = "" if path.endswith("&") else "?"
        assert other.client.get(f"{path}{sep}{Q}").status_code == 404, path
    for action in ("move", "skip", "lock", "restore"):
        body = {"start": "2026-11-27T17:00"} if action == "move" else None
        response = other.api("POST", f"{base}/{action}?{Q}", body)
        assert response.status_code == 404, action
    assert stored_overrides(app, member.runner_id) == 0
    assert stored_overrides(app, other.runner_id) == 0


def test_the_session_routes_are_in_the_openapi_document(app: Flask) -> None:
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    base = "/api/v1/sessions/{uid}"
    assert set(paths[base]) == {"get"}
    assert set(paths[f"{base}/slots"]) == {"get"}
    assert set(paths[f"{base}/preview"]) == {"get"}
    for action in ("move", "skip", "lock", "restore"):
        assert set(paths[f"{base}/{action}"]) == {"post"}
    move = paths[f"{base}/move"]["post"]
    assert move["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SessionMove"
    }


def test_every_answer_matches_its_documented_schema(member: Member, week: Week) -> None:
    uid = week.of_kind("core")["uid"]
    base = f"/api/v1/sessions/{uid}"
    answers = [
        (SESSION_STATE, _ok(member.client.get(f"{base}?{Q}"))),
        (SLOTS, _ok(member.client.get(f"{base}/slots?{Q}"))),
        (MOVE_PREVIEW, _ok(member.client.get(f"{base}/preview?{Q}&start=2026-11-28T10:00"))),
        (SESSION_STATE, _ok(member.api("POST", f"{base}/skip?{Q}"))),  # not placed: fewer keys
        (SESSION_STATE, _ok(member.api("POST", f"{base}/move?{Q}", {"start": "2026-11-28T10:00"}))),
    ]
    for body, answer in answers:
        jsonschema_rs.validate(dict(body.schema), answer)
