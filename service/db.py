"""Engine, sessions and schema state for one settings object; nothing is created at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from service.changestamp import ChangeStamp
from service.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
NOTES = "runstrength.commit_notes"  # session.info key: {topic: set of values} until the end

log = logging.getLogger(__name__)


class SchemaOutdated(RuntimeError):
    """The database schema is not the one this code needs."""


def make_engine(settings: Settings, changes: ChangeStamp | None = None) -> Engine:
    """Create the engine; SQLite gets its data dir, WAL, foreign keys and commit stamping."""
    kwargs: dict[str, Any] = {}
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = sqlite_file(settings.database_url)
        if database is not None:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        if changes is not None:
            kwargs["connect_args"]["factory"] = changes.connection_factory()
    engine = create_engine(settings.database_url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for other backends and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if parsed.database.startswith("file:") else parsed.database  # URI form: skip


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


def note_for_commit(session: Session, topic: str, value: Hashable) -> None:
    """Remember ``value`` until the transaction ends; a commit hands it to on_commit callbacks."""
    session.info.setdefault(NOTES, {}).setdefault(topic, set()).add(value)


class Database:
    """One engine and its session factory, owned by whoever built it from settings."""

    def __init__(self, settings: Settings) -> None:
        self.changes = ChangeStamp(sqlite_file(settings.database_url))
        self.engine = make_engine(settings, self.changes)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._on_commit: dict[str, list[Callable[[set[Hashable]], None]]] = {}
        event.listen(self._sessions, "after_commit", self._after_commit)
        event.listen(self._sessions, "after_transaction_end", self._after_transaction_end)

    def on_commit(self, topic: str, callback: Callable[[set[Hashable]], None]) -> None:
        """After each commit, call ``callback`` with the values noted under ``topic`` (if any)."""
        self._on_commit.setdefault(topic, []).append(callback)

    def _after_commit(self, session: Session) -> None:
        notes: dict[str, set[Hashable]] = session.info.pop(NOTES, {})
        for topic, values in notes.items():
            for callback in self._on_commit.get(topic, ()):
                try:
                    callback(values)
                except Exception:  # the data is committed: a failing hook must not fail it
                    log.exception("after-commit hook for %s failed", topic)

    def _after_transaction_end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # the outermost one: after a rollback notes are stale
            session.info.pop(NOTES, None)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.changes.close()
        self.engine.dispose()
