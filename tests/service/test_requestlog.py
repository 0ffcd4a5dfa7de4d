"""One JSON line per request on stdout; feed tokens, query strings and credentials never logged."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service import db as dbmod
from service.app import create_app, runtime
from service.usecases.feeds import feed_links
from service.usecases.runners import default_runner
from service.web import requestlog

TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture
def app(tmp_path: Path) -> Any:
    application = create_app({"data_dir": str(tmp_path)})
    dbmod.upgrade(runtime(application).db.engine)
    yield application
    runtime(application).db.dispose()


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _feed_token(app: Flask) -> str:
    rt = runtime(app)
    with rt.db.session() as db:
        links = feed_links(db, default_runner(db), rt.settings, rt.secret)
    return links.https.rsplit("/", 1)[1].removesuffix(".ics")


def test_one_request_gives_exactly_one_parseable_line(
    app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    agent = "x" * 1000
    response = app.test_client().get("/healthz", headers={"User-Agent": agent})
    assert response.status_code == 200
    (line,) = _lines(capsys.readouterr().out)
    assert set(line) == {
        "time",
        "method",
        "path",
        "status",
        "duration_ms",
        "bytes",
        "remote_addr",
        "user_agent",
    }
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"
    assert line["status"] == 200
    assert line["bytes"] == len(response.data)
    assert line["duration_ms"] >= 0
    assert line["remote_addr"] == "127.0.0.1"
    assert line["user_agent"] == "x" * requestlog.USER_AGENT_MAX
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)


def test_feed_token_query_and_credentials_never_logged(
    app: Flask, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    token = _feed_token(app)
    client = app.test_client()
    capsys.readouterr()
    secret_headers = {"Authorization": "Bearer sekrit-auth", "Cookie": "session=sekrit-cookie"}
    full = client.get(f"/feeds/{token}.ics?key=sekrit-query", headers=secret_headers)
    busy = client.get(f"/feeds/{token}-busy.ics", headers={"If-None-Match": full.headers["ETag"]})
    unknown = client.get("/feeds/" + "a" * 32 + ".ics")
    odd = client.get(f"/feeds/{token}/extra")
    assert (full.status_code, busy.status_code, unknown.status_code) == (200, 200, 404)
    assert odd.status_code == 404
    captured = capsys.readouterr()
    lines = _lines(captured.out)
    assert [line["path"] for line in lines] == [
        "/feeds/<redacted>.ics",
        "/feeds/<redacted>-busy.ics",
        "/feeds/<redacted>.ics",
        "/feeds/<redacted>",
    ]
    everything = captured.out + captured.err + caplog.text
    for secret in (token, "sekrit", "a" * 32):
        assert secret not in everything


def test_flask_error_messages_lose_the_feed_token(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    token = _feed_token(app)
    with caplog.at_level(logging.ERROR):
        app.logger.error("Exception on %s [%s]", f"/feeds/{token}.ics", "GET")
    assert token not in caplog.text
    assert "Exception on /feeds/<redacted> [GET]" in caplog.text


def test_install_is_idempotent(
    app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requestlog.install(app)
    requestlog.install(app)
    other = create_app({"data_dir": str(tmp_path)})  # a second app in the same process
    capsys.readouterr()
    app.test_client().get("/healthz")
    other.test_client().get("/healthz")
    assert len(_lines(capsys.readouterr().out)) == 2
    handlers = logging.getLogger(requestlog.LOGGER_NAME).handlers
    assert sum(isinstance(h, requestlog.StdoutHandler) for h in handlers) == 1
    runtime(other).db.dispose()


def test_redact_path() -> None:
    assert requestlog.redact_path("/feeds/abc.ics") == "/feeds/<redacted>.ics"
    assert requestlog.redact_path("/feeds/abc-busy.ics") == "/feeds/<redacted>-busy.ics"
    assert requestlog.redact_path("/feeds/") == "/feeds/"
    assert requestlog.redact_path("/api/v1/plan") == "/api/v1/plan"


def test_nothing_is_printed_at_import_time() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import service.web.requestlog, service.app, service.server"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=TESTS.parent,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
