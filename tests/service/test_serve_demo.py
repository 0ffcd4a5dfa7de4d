"""`runstrength serve` and `runstrength demo`: real gunicorn subprocesses, stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from service import server
from service.cli import main

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_S = 60
STOP_DEADLINE_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNSTRENGTH_")}
    env.update(RUNSTRENGTH_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", **extra)
    return env


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    base: str

    def stdout(self) -> str:
        return self.out.read_text()

    def get(self, path_or_url: str) -> tuple[int, dict[str, str], bytes]:
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def wait_until_up(self) -> None:
        """Poll /healthz until it answers 200; fail fast if the process died first."""
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}: {self.err.read_text()}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)  # polling interval, not a timing assumption
        pytest.fail(f"no answer on {self.base}/healthz within {START_DEADLINE_S}s")

    def stop(self) -> int:
        """SIGTERM, then the exit status within the deadline."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_DEADLINE_S)


Start = Callable[..., Running]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    started: list[Running] = []

    def _start(args: list[str], data_dir: Path, port: int, **env: str) -> Running:
        out, err = tmp_path / f"out{len(started)}.txt", tmp_path / f"err{len(started)}.txt"
        with out.open("wb") as out_file, err.open("wb") as err_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "service.cli", *args, "--port", str(port)],
                stdout=out_file,
                stderr=err_file,
                env=clean_env(data_dir, **env),
                cwd=ROOT,
            )
        running = Running(process, out, err, f"http://127.0.0.1:{port}")
        started.append(running)
        return running

    yield _start
    for running in started:  # only our own children, by their handle
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=STOP_DEADLINE_S)


def demo_activity_count(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "demo" / "runstrength.db") as connection:
        return int(connection.execute("SELECT count(*) FROM activities").fetchone()[0])


def printed(stdout: str, label: str) -> str:
    return next(line.split(": ", 1)[1] for line in stdout.splitlines() if line.startswith(label))


def test_demo_serves_page_and_feed_and_stops_cleanly(start: Start, tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = start(["demo"], data, free_port())
    demo.wait_until_up()
    status, _headers, page = demo.get("/")
    assert status == 200
    assert b"Upper body" in page or b"Core" in page
    feed_url = printed(demo.stdout(), "feed: ")
    assert printed(demo.stdout(), "runner page: ") == demo.base + "/"
    status, headers, body = demo.get(feed_url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/calendar")
    assert body.startswith(b"BEGIN:VCALENDAR")
    assert b"BEGIN:VEVENT" in body
    assert demo.stop() == 0
    token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
    logs = [json.loads(line) for line in demo.stdout().splitlines() if line.startswith("{")]
    assert {"/healthz", "/", "/feeds/<redacted>.ics"} <= {line["path"] for line in logs}
    assert token not in "".join(json.dumps(line) for line in logs)
    assert token not in demo.err.read_text()
    assert not (data / "runstrength.db").exists()  # the runner's own database is untouched


def test_demo_twice_adds_nothing(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--no-serve"]) == 0
    first = capsys.readouterr().out
    count = demo_activity_count(cli_env)
    assert count > 50
    assert main(["demo", "--no-serve", "--port", "8123"]) == 0
    second = capsys.readouterr().out
    assert demo_activity_count(cli_env) == count
    assert "(0 runs and 0 others new)" in second
    assert printed(first, "feed: ").startswith("http://127.0.0.1:8000/feeds/")
    assert printed(second, "feed: ").startswith("http://127.0.0.1:8123/feeds/")
    assert printed(first, "feed: ")[-40:] == printed(second, "feed: ")[-40:]  # same token


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("RUNSTRENGTH_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RUNSTRENGTH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_serve_with_container_config_serves_and_stops(start: Start, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert main_env(data, "db", "upgrade") == 0
    config = str(ROOT / "deploy" / "gunicorn.conf.py")
    web = start(
        ["serve", "--config", config, "--workers", "1"], data, free_port(), WEB_CONCURRENCY="3"
    )
    web.wait_until_up()
    assert web.get("/readyz")[0] == 200
    assert web.stop() == 0
    assert "Booting worker" in web.err.read_text()
    assert web.err.read_text().count("Booting worker") == 1  # --workers wins over the config


def main_env(data_dir: Path, *args: str) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=clean_env(data_dir),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


def test_serve_refuses_an_old_schema(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", str(free_port())]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "runstrength db upgrade" in err


def test_serve_refuses_a_taken_port(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    assert "already in use" in capsys.readouterr().err


def test_serve_without_fork_says_so(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "fork")
    assert main(["serve"]) == 1
    assert "fork" in capsys.readouterr().err


def test_gunicorn_options_leave_access_logs_to_requestlog(tmp_path: Path) -> None:
    config = tmp_path / "g.py"
    config.write_text("workers = 5\nthreads = 7\naccesslog = '-'\nbind = '0.0.0.0:1'\n")
    options = server.gunicorn_options(server.ServeOptions("::1", 9000, None, config))
    assert (options["workers"], options["threads"]) == (5, 7)
    assert options["bind"] == ["[::1]:9000"]
    assert options["accesslog"] is None
    assert server.gunicorn_options(server.ServeOptions(workers=3))["workers"] == 3
