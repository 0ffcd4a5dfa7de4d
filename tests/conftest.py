"""Shared fixtures: real SQLite and PostgreSQL databases, the app, and the real CLI entry."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

if TYPE_CHECKING:
    from flask import Flask

    from service.app import Runtime
    from tests.radicale import Radicale

pytest_plugins = ["tests.fakes.fixtures"]  # fake outside services (Google), for every test

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
REAL = TESTS.parent.parent / "shared" / "data" / "real"
POSTGRES_URL = os.environ.get(
    "RUNSTRENGTH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# "require": an unreachable server fails the run (CI); anything else: those tests are skipped.
POSTGRES_MODE = os.environ.get("RUNSTRENGTH_TEST_POSTGRES", "auto")


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def real_data() -> Path:
    """The shared real device files; tests using them skip where the folder is absent."""
    if not REAL.is_dir():
        pytest.skip(f"real device files not found at {REAL}")
    return REAL


def _postgres_schema_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if POSTGRES_MODE == "require":
            pytest.fail(f"PostgreSQL required but unreachable at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
    schema = f"rs_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def overrides(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"data_dir": str(tmp_path / "data"), "database_url": database_url}


@pytest.fixture
def app(overrides: dict[str, str]) -> Iterator[Flask]:
    """The application on a migrated database."""
    from service import db as dbmod
    from service.app import create_app, runtime

    application = create_app(overrides)
    dbmod.upgrade(runtime(application).db.engine)
    yield application
    runtime(application).db.dispose()


@pytest.fixture
def rt(app: Flask) -> Runtime:
    from service.app import runtime

    return runtime(app)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


class Cli:
    """Runs the real `runstrength` entry point in-process with RUNSTRENGTH_* set for the test."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *args: str) -> CliResult:
        from service.cli import main

        self._capsys.readouterr()
        code = main(list(args))
        captured = self._capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    def json(self, *args: str) -> Any:
        """Run a command with --json, insist it succeeded, and parse what it printed."""
        result = self(*args, "--json")
        assert result.code == 0, result.err
        return json.loads(result.out)


@pytest.fixture
def cli(
    overrides: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Cli:
    """The CLI on an empty database of each kind, with the runner's zone fixed to Europe/Berlin."""
    for key, value in overrides.items():
        monkeypatch.setenv(f"RUNSTRENGTH_{key.upper()}", value)
    monkeypatch.setattr("service.usecases.runners.system_timezone", lambda: "Europe/Berlin")
    return Cli(capsys)


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """A real Radicale server for the module's tests (an independent iCalendar checker)."""
    from tests.radicale import run_radicale

    yield from run_radicale(tmp_path_factory.mktemp("radicale"))
