"""Engine, sessions and schema state for one settings object; nothing is created at import time."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from service.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaOutdated(RuntimeError):
    """The database schema is not the one this code needs."""


def make_engine(settings: Settings) -> Engine:
    """Create the engine; SQLite gets its data dir, WAL and foreign keys."""
    url = settings.database_url
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = url.split("///", 1)[-1]
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for our migrations, bound to an engine when one is given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    """The newest migration this code ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Migrate to the newest schema; returns (before, after) revisions."""
    before = current_revision(engine)
    command.upgrade(alembic_config(engine), "head")
    return before, current_revision(engine)


def check_schema(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not the current one."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaOutdated(
            "the database has no runstrength schema yet: run `runstrength db upgrade`"
        )
    raise SchemaOutdated(
        f"the database schema is at {current}, this version needs {head}: "
        "run `runstrength db upgrade`"
    )


class ChangeStamp:
    """A cheap answer to "was anything committed since I last looked?", for per-process caches.

    SQLite only: ``PRAGMA data_version`` on a private connection moves on every commit made by any
    other connection, in any process. Elsewhere (and for in-memory SQLite) ``current()`` is None:
    there is no cheap signal, so callers must ask the database.
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._uri = None if database in (None, "", ":memory:") else _read_only_uri(database)
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._epoch = 0

    def current(self) -> tuple[int, int] | None:
        """An opaque stamp: equal stamps mean nothing was committed in between."""
        if self._uri is None:
            return None
        with self._lock:
            try:
                if self._connection is None or self._pid != os.getpid():  # never across fork
                    self._connection = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
                    self._pid, self._epoch = os.getpid(), self._epoch + 1
                (version,) = self._connection.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error:  # no file yet, or unreadable: no stamp, callers query
                self._connection = None
                return None
            return self._epoch, int(version)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


def _read_only_uri(database: str) -> str:
    return Path(database).resolve().as_uri() + "?mode=ro"


class Database:
    """One engine and its session factory, owned by whoever built it from settings."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.changes = ChangeStamp(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.changes.close()
        self.engine.dispose()
