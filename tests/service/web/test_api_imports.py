"""The imports API: multipart uploads give per-file results; activities are listed newest first."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.app import runtime
from service.usecases.api_tokens import create_token
from service.usecases.uploads import UPLOADS_DIR
from tests.conftest import Cli
from tests.service.web.conftest import Member

DATA = Path(__file__).resolve().parents[2] / "data"
RUN_FIT = DATA / "fit" / "run.fit"
WATCH_ZIP = DATA / "sample" / "activities" / "watch-export.zip"


def _part(path: Path, name: str | None = None) -> tuple[IO[bytes], str]:
    return io.BytesIO(path.read_bytes()), name or path.name


def _post(
    client: FlaskClient, *parts: tuple[IO[bytes], str], query: str = "", **headers: str
) -> Any:
    return client.post(
        f"/api/v1/imports{query}",
        data={"files": list(parts)},
        content_type="multipart/form-data",
        headers=headers,
    )


def _import(member: Member, *parts: tuple[IO[bytes], str], query: str = "") -> Any:
    """A cookie call from the signed-in runner, with the X-CSRFToken header like the page."""
    return _post(member.client, *parts, query=query, **{"X-CSRFToken": member.csrf()})


def _token(app: Flask, runner_id: int) -> str:
    with runtime(app).db.session() as db:
        _info, token = create_token(db, runner_id, "script")
    return token


def test_an_upload_returns_each_file_s_outcome_and_the_totals(member: Member) -> None:
    broken = (io.BytesIO(b"not a workout"), "notes.fit")
    response = _import(member, _part(RUN_FIT), _part(WATCH_ZIP), broken)
    assert response.status_code == 200
    body = response.get_json()
    outcomes = {f["name"]: f["outcome"] for f in body["files"]}
    assert outcomes["run.fit"] == "imported"
    assert outcomes["notes.fit"] == "rejected"
    assert outcomes["watch-export.zip/activities/2026-11-22_0905_long.gpx.gz"] == "imported"
    assert [f["detail"] for f in body["files"] if f["name"] == "notes.fit"] != [""]
    assert body["totals"] == {
        "files": 7,
        "runs": 6,
        "others": 0,
        "duplicates": 0,
        "rejected": 1,
        "skipped": 0,
    }
    again = _import(member, _part(RUN_FIT)).get_json()
    assert again["files"][0]["outcome"] == "duplicate"
    assert len(member.client.get("/api/v1/activities").get_json()["activities"]) == 6


def test_a_bearer_token_imports_without_a_csrf_token(app: Flask, member: Member) -> None:
    token = _token(app, member.runner_id)
    client = app.test_client()  # no cookie at all
    response = _post(client, _part(RUN_FIT), Authorization=f"Bearer {token}")
    assert response.status_code == 200
    assert response.get_json()["totals"]["runs"] == 1
    listed = client.get("/api/v1/activities", headers={"Authorization": f"Bearer {token}"})
    assert [a["origin"] for a in listed.get_json()["activities"]] == ["run.fit"]


def test_a_cookie_call_without_the_csrf_header_is_refused(member: Member) -> None:
    response = _post(member.client, _part(RUN_FIT))
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert member.client.get("/api/v1/activities").get_json() == {"activities": []}


def test_signed_out_calls_get_401(app: Flask) -> None:
    client = app.test_client()
    assert _post(client, _part(RUN_FIT), Authorization="Bearer rs_nope").status_code == 401
    assert client.get("/api/v1/activities").status_code == 401


@pytest.mark.parametrize(
    ("query", "parts", "named"),
    [
        ("", (), "files"),
        ("", ("nameless",), "files"),
        ("?sport=curling", ("run",), "sport"),
        ("?sports=run", ("run",), "sports"),
    ],
)
def test_bad_requests_get_400_naming_the_field(
    member: Member, query: str, parts: tuple[str, ...], named: str
) -> None:
    sent = [_part(RUN_FIT) if p == "run" else (io.BytesIO(b""), "") for p in parts]
    response = _import(member, *sent, query=query)
    assert response.status_code == 400
    assert named in response.get_json()["error"]
    assert member.client.get("/api/v1/activities").get_json() == {"activities": []}


def test_the_sport_parameter_makes_files_without_a_sport_runs(member: Member) -> None:
    body = _import(member, _part(DATA / "gpx" / "no_type.gpx"), query="?sport=run").get_json()
    assert body["files"][0]["outcome"] == "imported"
    listed = member.client.get("/api/v1/activities").get_json()["activities"]
    assert [a["sport"] for a in listed] == ["run"]


def test_a_too_large_upload_gets_a_json_413(app: Flask, member: Member) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    token = _token(app, member.runner_id)
    response = _post(app.test_client(), _part(RUN_FIT), Authorization=f"Bearer {token}")
    assert response.status_code == 413
    assert response.get_json()["error"].startswith("files: that upload is larger than 9 KB")
    folder = runtime(app).settings.data_dir / UPLOADS_DIR
    assert not folder.exists() or list(folder.iterdir()) == []


def test_activities_are_the_cli_s_json_newest_first(sample_app: Flask, cli: Cli) -> None:
    client = sample_app.test_client()
    served = client.get("/api/v1/activities?limit=1000").get_json()
    printed = cli.json("activities")
    assert served["activities"] == list(reversed(printed["activities"]))
    starts = [a["start_utc"] for a in served["activities"]]
    assert starts == sorted(starts, reverse=True)


def test_activities_can_start_from_a_date_and_be_limited(sample_app: Flask) -> None:
    client = sample_app.test_client()
    recent = client.get("/api/v1/activities?since=2026-11-16").get_json()["activities"]
    assert recent
    assert all(a["start"][:10] >= "2026-11-16" for a in recent)
    three = client.get("/api/v1/activities?limit=3").get_json()["activities"]
    assert three == client.get("/api/v1/activities").get_json()["activities"][:3]
    for bad, named in (("limit=0", "limit"), ("since=22.11.2026", "since"), ("x=1", "x")):
        response = client.get(f"/api/v1/activities?{bad}")
        assert response.status_code == 400
        assert named in response.get_json()["error"]


def test_runner_b_never_sees_runner_a_s_activities(member: Member, other: Member) -> None:
    assert _import(member, _part(RUN_FIT)).status_code == 200
    assert len(member.client.get("/api/v1/activities").get_json()["activities"]) == 1
    assert other.client.get("/api/v1/activities").get_json() == {"activities": []}
    second = _import(other, _part(RUN_FIT)).get_json()
    assert second["files"][0]["outcome"] == "imported"  # A's file is no duplicate for B
    assert len(member.client.get("/api/v1/activities").get_json()["activities"]) == 1


def test_answers_match_the_schemas_the_openapi_document_publishes(
    sample_app: Flask,
) -> None:
    client = sample_app.test_client()
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    imports = doc["paths"]["/api/v1/imports"]["post"]
    assert [p["name"] for p in imports["parameters"]] == ["sport"]
    assert {"200", "400", "413"} <= set(imports["responses"])
    listed = client.get("/api/v1/activities?limit=5").get_json()
    jsonschema_rs.validate(schemas["Activities"], listed)
    token = _token(sample_app, 1)
    sent = _post(client, _part(RUN_FIT), (io.BytesIO(b"?"), "x.gpx"), **_bearer(token))
    jsonschema_rs.validate(schemas["ImportResult"], sent.get_json())
    jsonschema_rs.validate(schemas["Error"], _post(client, **_bearer(token)).get_json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
