"""Liveness and readiness over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from service.app import create_app, runtime


def test_the_process_answers_that_it_is_alive(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_a_migrated_database_makes_the_service_ready(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


def test_an_unmigrated_database_is_not_ready_and_says_to_upgrade(
    overrides: dict[str, str],
) -> None:
    application = create_app(overrides)
    try:
        response = application.test_client().get("/readyz")
    finally:
        runtime(application).db.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert "runstrength db upgrade" in body["reason"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_unreachable_database_is_not_ready_and_the_reason_hides_its_address(
    tmp_path: Path,
) -> None:
    url = "postgresql://secret-user:secret-pass@127.0.0.1:1/nowhere?connect_timeout=2"
    application = create_app({"data_dir": str(tmp_path), "database_url": url})
    try:
        response = application.test_client().get("/readyz")
    finally:
        runtime(application).db.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert "does not answer" in body["reason"]
    assert "secret" not in response.get_data(as_text=True)
