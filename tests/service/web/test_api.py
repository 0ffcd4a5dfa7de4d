"""The JSON API: the same answers as the CLI, and 400s that name the bad parameter."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import Cli
from tests.service.web.conftest import TODAY


def _get(app: Flask, path: str) -> Any:
    response = app.test_client().get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


@pytest.mark.parametrize(
    ("query", "args"),
    [
        ("", ()),
        ("&weeks=3", ("--weeks", "3")),
        ("&start=2026-11-25&weeks=2", ("--start", "2026-11-25", "--weeks", "2")),
    ],
)
def test_the_plan_is_the_json_the_cli_prints(
    sample_app: Flask, cli: Cli, query: str, args: tuple[str, ...]
) -> None:
    served = _get(sample_app, f"/api/v1/plan?today={TODAY}{query}")
    printed = cli.json("plan", "--today", str(TODAY), *args)
    assert served == printed
    assert served["weeks"][0]["sessions"], "the sample week should hold sessions"


@pytest.mark.parametrize(("query", "args"), [("", ()), ("&weeks=4", ("--weeks", "4"))])
def test_the_mileage_is_the_json_the_cli_prints(
    sample_app: Flask, cli: Cli, query: str, args: tuple[str, ...]
) -> None:
    served = _get(sample_app, f"/api/v1/mileage?today={TODAY}{query}")
    assert served == cli.json("mileage", "--today", str(TODAY), *args)
    assert len(served["weeks"]) == (4 if query else 12)


@pytest.fixture
def app(single_app: Flask) -> Flask:
    """These tests read the single runner of a personal install, with no sign-in."""
    return single_app


def test_without_today_the_runner_s_own_today_is_used(sample_app: Flask) -> None:
    body = _get(sample_app, "/api/v1/mileage?weeks=1")
    assert body["today"]  # whatever today is in Berlin; the call must simply work
    assert _get(sample_app, "/api/v1/plan")["runner"]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/api/v1/plan?weeks=0", "weeks"),
        ("/api/v1/plan?weeks=53", "weeks"),
        ("/api/v1/plan?weeks=two", "weeks"),
        ("/api/v1/plan?weeks=-1", "weeks"),
        ("/api/v1/plan?start=2026-02-30", "start"),
        ("/api/v1/plan?today=22.11.2026", "today"),
        ("/api/v1/plan?today=2026-W47-7", "today"),
        ("/api/v1/plan?today=0001-01-01", "today"),
        ("/api/v1/plan?wekks=2", "wekks"),
        ("/api/v1/mileage?weeks=521", "weeks"),
        ("/api/v1/mileage?today=", "today"),
    ],
)
def test_a_bad_parameter_gets_400_naming_it(app: Flask, path: str, named: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert named in error


def test_an_unknown_api_path_gets_a_json_404(app: Flask) -> None:
    response = app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found: GET /api/v1/nothing-here"}


def test_a_failure_inside_the_api_gets_a_json_500_without_a_traceback(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("planner exploded")

    monkeypatch.setattr("service.web.api.stored_plan", broken)
    response = app.test_client().get("/api/v1/plan")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; it has been logged"}
    assert "exploded" not in response.get_data(as_text=True)
