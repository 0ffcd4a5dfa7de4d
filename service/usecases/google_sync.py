"""The runner's own edits in their Google calendar, read back: moves and deletes become overrides.

Each change Google reports for one of our events is compared with what we last wrote
(``RemoteEvent``). The runner cannot edit our private content hash, so an event still carrying
the hash we wrote but at other times was moved by the runner; one carrying a different hash is
our own write from a publish that stopped before recording it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.calendar.google import RemoteChange, event_id_for
from service.models import Connection, RemoteEvent, Runner
from service.planning.model import OverrideAction
from service.usecases.build_plan import plan_for_runner
from service.usecases.overrides import UnknownSession, apply_override, search_window

STALE = ""  # a content hash no event has: the next publish rewrites the event


@dataclass(slots=True)
class ReadBack:
    """What the runner changed in Google since the last look, as recorded overrides."""

    moved: int = 0
    skipped: int = 0
    conflicts: int = 0


def read_back(
    db: DbSession,
    runner: Runner,
    connection: Connection,
    changes: Iterable[RemoteChange],
    *,
    today: date,
) -> ReadBack:
    """Fold remote changes into our records; the runner's moves and deletes become overrides."""
    rows = {
        r.event_id: r
        for r in db.scalars(select(RemoteEvent).where(RemoteEvent.connection_id == connection.id))
    }
    reader = _Reader(db, runner, today)
    for change in changes:
        row = rows.get(change.event_id)
        if row is None:
            adopted = _adopt(connection, change, rows.values())
            if adopted is not None:
                db.add(adopted)
                rows[adopted.event_id] = adopted
        elif change.cancelled:
            reader.deleted(row)
            db.delete(row)
            del rows[change.event_id]
        elif change.content_hash is not None and change.content_hash != row.content_hash:
            _refresh(row, change)
        elif change.start is not None and change.end is not None and _moved(row, change):
            reader.moved(row, change.start, change.end)
    db.flush()
    return reader.found


def _adopt(
    connection: Connection, change: RemoteChange, known: Iterable[RemoteEvent]
) -> RemoteEvent | None:
    """A row for an event we wrote but never recorded (a publish stopped mid-batch)."""
    if change.cancelled or not change.uid or not change.content_hash:
        return None
    if change.start is None or change.end is None or event_id_for(change.uid) != change.event_id:
        return None
    if any(r.uid == change.uid for r in known):
        return None
    return RemoteEvent(
        connection_id=connection.id,
        uid=change.uid,
        event_id=change.event_id,
        content_hash=change.content_hash,
        start_utc=change.start,
        end_utc=change.end,
    )


def _refresh(row: RemoteEvent, change: RemoteChange) -> None:
    """Our own write that was never recorded: the event now holds what that write said."""
    assert change.content_hash is not None
    row.content_hash = change.content_hash
    if change.start is not None and change.end is not None:
        row.start_utc, row.end_utc = change.start, change.end


def _moved(row: RemoteEvent, change: RemoteChange) -> bool:
    # An all-day event (no start) is no slot to move to: the next publish rewrites it.
    return change.start != row.start_utc or change.end != row.end_utc


class _Reader:
    """Records the runner's decisions, for sessions the plan currently places."""

    def __init__(self, db: DbSession, runner: Runner, today: date) -> None:
        self.db, self.runner, self.today = db, runner, today
        self.found = ReadBack()
        self._placed: set[str] | None = None

    def placed(self, uid: str) -> bool:
        if self._placed is None:  # planned once, and only when the runner changed something
            plan = plan_for_runner(self.db, self.runner, search_window(self.runner, self.today))
            self._placed = {s.uid for week in plan.weeks for s in week.sessions}
        return uid in self._placed

    def deleted(self, row: RemoteEvent) -> None:
        """The runner deleted the event: skip the session (our own deletes have no row left)."""
        if self.placed(row.uid) and self._record(row.uid, OverrideAction.SKIP):
            self.found.skipped += 1

    def moved(self, row: RemoteEvent, start: datetime, end: datetime) -> None:
        """The runner moved the event: pin the session there; the event is rewritten either way."""
        if self.placed(row.uid) and self._record(row.uid, OverrideAction.MOVE, start):
            self.found.moved += 1
        row.start_utc, row.end_utc, row.content_hash = start, end, STALE

    def _record(self, uid: str, action: OverrideAction, start: datetime | None = None) -> bool:
        try:
            conflicts = apply_override(
                self.db, self.runner, uid, action, today=self.today, start=start
            )
        except UnknownSession:
            return False
        self.found.conflicts += len(conflicts)
        return True
