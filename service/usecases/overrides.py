"""A runner's say over single sessions: move, skip, lock, restore; kept across rebuilds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from service.models import Runner, SessionOverride
from service.planning.model import OverrideAction, Plan, Skipped
from service.planning.picture import week_start_of
from service.usecases.build_plan import Horizon, find_session, plan_for_runner
from service.usecases.runners import InvalidValue, mark_plan_changed

LOOK_BACK_WEEKS = 2
LOOK_AHEAD_WEEKS = 12


class UnknownSession(ValueError):
    """No session with that uid in the runner's plan."""


def search_window(runner: Runner, today: date) -> Horizon:
    """The weeks a uid is looked up in: two back, twelve ahead."""
    this_week = week_start_of(today, runner.week_start)
    start = this_week - timedelta(weeks=LOOK_BACK_WEEKS)
    return Horizon(today=today, start=start, weeks=LOOK_BACK_WEEKS + LOOK_AHEAD_WEEKS)


def _known(plan: Plan, uid: str) -> bool:
    return find_session(plan, uid) is not None or any(
        s.uid == uid for week in plan.weeks for s in week.skipped
    )


def apply_override(
    db: DbSession,
    runner: Runner,
    uid: str,
    action: OverrideAction,
    *,
    today: date,
    start: datetime | None = None,
) -> list[Skipped]:
    """Store the runner's decision; returns hard-rule conflicts the session now has."""
    window = search_window(runner, today)
    plan = plan_for_runner(db, runner, window)
    if not _known(plan, uid):
        raise UnknownSession(f"no session {uid} in your plan (see `runstrength plan --json`)")
    if action is OverrideAction.LOCK and start is None:
        found = find_session(plan, uid)
        if found is None:
            raise UnknownSession(f"session {uid} is skipped: move it to a slot instead of locking")
        start = found.start
    if action is not OverrideAction.SKIP and start is None:
        raise InvalidValue("a moved session needs a start")
    row = db.scalars(
        select(SessionOverride).where(
            SessionOverride.runner_id == runner.id, SessionOverride.uid == uid
        )
    ).first() or SessionOverride(runner_id=runner.id, uid=uid)
    row.action, row.start_utc = action.value, start
    db.add(row)
    mark_plan_changed(runner)
    db.flush()
    rebuilt = plan_for_runner(db, runner, window)
    return [c for week in rebuilt.weeks for c in week.conflicts if c.uid == uid]


def restore(db: DbSession, runner: Runner, uid: str) -> None:
    """Forget the runner's decision about a session: the planner places it again."""
    gone = db.execute(
        delete(SessionOverride).where(
            SessionOverride.runner_id == runner.id, SessionOverride.uid == uid
        )
    )
    if not getattr(gone, "rowcount", 0):
        raise UnknownSession(f"session {uid} has no move, skip or lock to undo")
    mark_plan_changed(runner)


def local_slot(runner: Runner, text: str) -> datetime:
    """Parse 'YYYY-MM-DD HH:MM' as the runner's local time (aware)."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidValue(f"expected a local time like '2026-11-26 18:30', got {text!r}") from None
    return naive.replace(tzinfo=ZoneInfo(runner.timezone))
