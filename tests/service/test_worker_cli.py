"""`runstrength worker`, `publish` and the consumer inside `serve`: the real commands."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrations.types import TokenSet
from service import jobs
from service.app import Runtime
from service.crypto import Sealer
from service.db import Database, upgrade
from service.keys import secret_key
from service.models import Connection, Runner
from service.settings import Settings
from tests.conftest import Cli
from tests.fakes.google import FakeGoogle
from tests.service.test_serve_demo import ROOT, clean_env, free_port

DEADLINE_S = 60
FERNET_KEY = "NAg6XxCr4iZQxTzDAvToo4xP8hnFUK1RgLAQOPdo_iE="


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle().start()
    yield fake
    fake.stop()


def runtime_for(env: dict[str, str]) -> Runtime:
    settings = Settings.from_env(env)
    return Runtime(settings=settings, db=Database(settings), secret=secret_key(settings))


def add_runner(rt: Runtime) -> int:
    with rt.db.session() as session:
        runner = Runner(name="", timezone="Europe/Berlin")
        session.add(runner)
        session.flush()
        return runner.id


def wait_for(path: Path, pattern: str, process: subprocess.Popen[bytes] | None) -> str:
    """Poll a log file until a line matches; fail if the process dies or time runs out."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text())
        if found:
            return found.group(0)
        if process is not None and process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}: {path.read_text()}")
        time.sleep(0.1)  # polling interval, not a timing assumption
    pytest.fail(f"no {pattern!r} within {DEADLINE_S}s in {path.read_text()}")


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[tuple[dict[str, str], Runtime]]:
    """A migrated SQLite installation in a temp data dir, with its environment."""
    env = clean_env(tmp_path / "data")
    rt = runtime_for(env)
    upgrade(rt.db.engine)
    yield env, rt
    rt.db.dispose()


def start(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    with (tmp_path / "out.txt").open("wb") as out, (tmp_path / "err.txt").open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", *args], stdout=out, stderr=err, env=env, cwd=ROOT
        )


def stopped(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=DEADLINE_S)


def test_worker_consumes_a_job_and_exits_0_on_sigterm(
    installation: tuple[dict[str, str], Runtime], tmp_path: Path
) -> None:
    env, rt = installation
    runner_id = add_runner(rt)
    queue = jobs.Jobs(jobs.make_queue(rt.settings), rt)
    queue.publish(runner_id)
    worker = start(["worker", "--workers", "2"], env, tmp_path)
    try:
        wait_for(
            tmp_path / "err.txt", rf"runner {runner_id}: no Google Calendar connection", worker
        )
        assert queue.huey.pending_count() == 0
        assert stopped(worker) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    out = (tmp_path / "out.txt").read_text()
    assert "until SIGTERM or Ctrl+C" in out
    assert "worker: stopped" in out
    assert "Traceback" not in (tmp_path / "err.txt").read_text()


def test_worker_on_an_unreachable_redis_says_so_in_one_line(
    installation: tuple[dict[str, str], Runtime], tmp_path: Path
) -> None:
    env, _rt = installation
    env["RUNSTRENGTH_QUEUE_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("runstrength: cannot reach the job queue at redis://127.0.0.1")
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_runs_one_consumer_and_stops_it_with_the_server(
    installation: tuple[dict[str, str], Runtime], tmp_path: Path
) -> None:
    env, rt = installation
    runner_id = add_runner(rt)
    server = start(["serve", "--port", str(free_port()), "--workers", "2"], env, tmp_path)
    try:
        started = wait_for(tmp_path / "err.txt", r"background worker \(pid (\d+)\)", server)
        jobs.Jobs(jobs.make_queue(rt.settings), rt).publish(runner_id)
        wait_for(
            tmp_path / "err.txt", rf"runner {runner_id}: no Google Calendar connection", server
        )
        assert stopped(server) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    err = (tmp_path / "err.txt").read_text()
    assert err.count("background worker (pid") == 1  # one for the server, not one per worker
    assert "background worker stopped" in err
    assert "Traceback" not in err
    pid = int(re.findall(r"\d+", started)[0])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # nothing left behind


def test_a_killed_server_leaves_no_consumer_behind(
    installation: tuple[dict[str, str], Runtime], tmp_path: Path
) -> None:
    env, _rt = installation
    server = start(["serve", "--port", str(free_port())], env, tmp_path)
    try:
        wait_for(tmp_path / "err.txt", r"background worker \(pid \d+\)", server)
    finally:
        server.kill()  # no chance to stop its consumer
        server.wait()
    wait_for(tmp_path / "err.txt", "background worker stopped", None)


def test_publish_calls_the_use_case_and_says_why_nothing_was_published(cli: Cli) -> None:
    assert cli("db", "upgrade").code == 0
    assert cli("runner", "show").code == 0
    result = cli("publish", "--runner", "1")
    assert (result.code, result.out) == (1, "runner 1: no Google Calendar connection\n")
    assert cli("publish").out == "runner 1: no Google Calendar connection\n"
    everyone = cli("publish", "--all")
    assert (everyone.code, everyone.out) == (0, "no runner has a connected Google calendar\n")


def test_publish_refuses_unknown_runners_and_mixed_options_in_one_line(cli: Cli) -> None:
    assert cli("db", "upgrade").code == 0
    missing = cli("publish", "--runner", "99")
    assert (missing.code, missing.err) == (1, "runstrength: no runner 99\n")
    both = cli("publish", "--runner", "1", "--all")
    assert (both.code, both.err) == (1, "runstrength: give --runner or --all, not both\n")


def test_publish_all_writes_each_connected_runners_calendar(
    cli: Cli, google: FakeGoogle, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, str]
) -> None:
    for key, value in {**google.settings_overrides(), "encryption_keys": FERNET_KEY}.items():
        monkeypatch.setenv(f"RUNSTRENGTH_{key.upper()}", value)
    assert cli("db", "upgrade").code == 0
    assert cli("import", str(ROOT / "tests" / "data" / "sample")).code in (0, 2)
    settings = Settings.from_env()
    issued = google.issue_token()
    grant = TokenSet(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_at=datetime.now(UTC) + timedelta(seconds=issued.expires_in),
        scopes=issued.scopes,
        token_type="Bearer",
    )
    db = Database(settings)
    with db.session() as session:
        session.add(
            Connection(
                runner_id=1,
                provider="google_calendar",
                state="connected",
                grant=Sealer.from_settings(settings).seal(grant),
                scopes=" ".join(sorted(issued.scopes)),
            )
        )
    db.dispose()
    result = cli("publish", "--all")
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("runner 1: calendar created")
    (calendar_id,) = google.calendars
    assert google.events(calendar_id)
    again = cli("publish", "--all")
    assert again.out.startswith("runner 1: up to date")
