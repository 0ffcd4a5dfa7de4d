"""The change stamp behind per-process caches: it must move after every commit, from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from service.app import Runtime, create_app, runtime
from service.changestamp import NET_S, ChangeStamp
from service.models import Runner


def _sqlite_only(rt: Runtime) -> None:
    if rt.db.engine.dialect.name != "sqlite":
        assert rt.db.changes.current() is None  # no cheap signal: callers must ask the database
        pytest.skip("PostgreSQL has no change stamp")


def _add_runner(rt: Runtime, name: str) -> None:
    with rt.db.session() as db:
        db.add(Runner(name=name, timezone="UTC", preferences={}))


def test_the_stamp_holds_while_only_reads_happen_and_moves_on_a_commit(rt: Runtime) -> None:
    _sqlite_only(rt)
    stamp = rt.db.changes.current()
    assert stamp is not None
    with rt.db.engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM runners"))
    assert rt.db.changes.current() == stamp
    _add_runner(rt, "in this process")
    assert rt.db.changes.current() != stamp


def test_a_commit_by_another_runstrength_process_moves_the_stamp_at_once(
    rt: Runtime, overrides: dict[str, str]
) -> None:
    _sqlite_only(rt)
    stamp = rt.db.changes.current()
    env = {**os.environ, **{f"RUNSTRENGTH_{k.upper()}": v for k, v in overrides.items()}}
    command = [sys.executable, "-m", "service.cli", "runner", "set", "--name", "Elsewhere"]
    subprocess.run(command, check=True, timeout=120, env=env, capture_output=True)
    assert rt.db.changes.current() != stamp


def test_a_commit_by_another_program_is_caught_by_the_safety_net(rt: Runtime) -> None:
    _sqlite_only(rt)
    database = str(rt.db.engine.url.database)
    clock = Clock()
    changes = ChangeStamp(database, clock=clock)
    stamp = changes.current()
    writer = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        'c.execute("UPDATE alembic_version SET version_num = version_num"); c.commit()'
    )
    subprocess.run([sys.executable, "-c", writer, database], check=True, timeout=60)
    assert changes.current() == stamp  # a plain sqlite3 commit does not stamp by itself
    clock.now += NET_S
    assert changes.current() != stamp


def test_a_commit_moves_the_stamp_for_every_thread(rt: Runtime) -> None:
    _sqlite_only(rt)
    stamps: list[int | None] = []

    def look() -> None:
        stamps.append(rt.db.changes.current())

    look()
    _add_runner(rt, "seen everywhere")
    other = threading.Thread(target=look)
    other.start()
    other.join()
    look()
    before, elsewhere, here = stamps
    assert before is not None
    assert elsewhere == here
    assert here != before


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Look:
    commits_done_before: int
    stamp: int
    commits_begun_after: int


def test_under_concurrent_commits_a_stamp_never_repeats_across_a_commit(rt: Runtime) -> None:
    _sqlite_only(rt)
    done, begun = [0], [0]
    looks: list[Look] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            before = done[0]
            stamp = rt.db.changes.current()
            assert stamp is not None
            looks.append(Look(before, stamp, begun[0]))

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    for n in range(40):
        begun[0] += 1
        _add_runner(rt, f"runner {n}")
        done[0] += 1
    stop.set()
    for thread in readers:
        thread.join()
    # No stamp seen before a whole commit may be seen again after it (stamps never repeat).
    seen_until: dict[int, int] = {}  # stamp -> fewest commits begun when a look with it ended
    for look in looks:
        seen_until[look.stamp] = min(seen_until.get(look.stamp, 1 << 30), look.commits_begun_after)
    checked = 0
    for later in looks:
        assert seen_until[later.stamp] >= later.commits_done_before
        checked += later.commits_done_before > 0
    assert checked > 0


def test_an_in_memory_database_has_no_stamp(tmp_path: Path) -> None:
    memory = create_app({"data_dir": str(tmp_path), "database_url": "sqlite:///:memory:"})
    assert runtime(memory).db.changes.current() is None


def test_every_runstrength_process_shares_one_stamp_file(rt: Runtime) -> None:
    _sqlite_only(rt)
    database = str(rt.db.engine.url.database)
    first, second = ChangeStamp(database), ChangeStamp(database)
    assert first.current() == second.current()
    first.bump()
    assert first.current() == second.current() == rt.db.changes.current()
