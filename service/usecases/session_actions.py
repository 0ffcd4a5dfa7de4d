"""The runner's say over one session from the web: each action answers the session as it now
stands, so pages and API show the result (and any rule it breaks) at once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session as DbSession

from service.models import Runner
from service.planning.model import OverrideAction
from service.usecases.overrides import apply_override, restore
from service.usecases.session_slots import (
    NotNow,
    SessionView,
    preview_move,
    session_view,
)


def move_session(
    db: DbSession, runner: Runner, uid: str, start: datetime | str, *, today: date
) -> SessionView:
    """Put the session at ``start`` (in its own week, text as parse_start reads it); it keeps
    its uid, so calendars update."""
    checked = preview_move(db, runner, uid, start, today=today)
    apply_override(db, runner, uid, OverrideAction.MOVE, today=today, start=checked.start)
    return session_view(db, runner, uid, today=today)


def skip_session(db: DbSession, runner: Runner, uid: str, *, today: date) -> SessionView:
    """Take the session out of the plan until the runner restores it."""
    session_view(db, runner, uid, today=today)  # UnknownSession before anything is stored
    apply_override(db, runner, uid, OverrideAction.SKIP, today=today)
    return session_view(db, runner, uid, today=today)


def lock_session(db: DbSession, runner: Runner, uid: str, *, today: date) -> SessionView:
    """Keep a placed session where it is now, whatever later rebuilds would prefer."""
    view = session_view(db, runner, uid, today=today)
    if view.session is None:
        raise NotNow("only a placed session can be locked: move this one to a slot instead")
    apply_override(db, runner, uid, OverrideAction.LOCK, today=today, start=view.session.start)
    return session_view(db, runner, uid, today=today)


def restore_session(db: DbSession, runner: Runner, uid: str, *, today: date) -> SessionView:
    """Forget the runner's move, skip or lock: the planner places the session again."""
    view = session_view(db, runner, uid, today=today)
    if not view.restorable:
        raise NotNow("this session is where runstrength planned it: there is nothing to restore")
    restore(db, runner, uid)
    db.flush()
    return session_view(db, runner, uid, today=today)
