"""The session page and its actions: move (slots offered, conflicts shown before saving), skip,
lock and restore, as plain forms that work without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session as DbSession

from service.app import runtime
from service.models import Runner
from service.plan_view import exercise_line, kind_name
from service.usecases.history import today_for
from service.usecases.overrides import UnknownSession
from service.usecases.runners import InvalidValue
from service.usecases.session_actions import (
    lock_session,
    move_session,
    restore_session,
    skip_session,
)
from service.usecases.session_slots import (
    NotNow,
    SessionView,
    offered_slots,
    preview_move,
    session_view,
)
from service.web.auth import current_runner
from service.web.params import BadParameter, date_param

bp = Blueprint("sessions", __name__)

TODAY = date_param("today", "Show the page as if today were this date (demos and tests).")
STATE_WORDS = {
    "planned": "Planned by runstrength",
    "moved": "Moved by you: rebuilds keep it where you put it",
    "locked": "Locked by you: rebuilds keep it where it is",
    "skipped": "Skipped by you",
    "not_placed": "Not placed by runstrength",
}
Action = Callable[..., SessionView]


def _today() -> date | None:
    """The ``today`` query parameter (demos and tests); a bad one is a 400 naming it."""
    try:
        found: date | None = TODAY.read(request.args.get(TODAY.name))
    except BadParameter as exc:
        abort(400, description=str(exc))
    return found


def _keep(today: date | None) -> dict[str, str]:
    """Query arguments every link and form on these pages carries along."""
    return {"today": today.isoformat()} if today else {}


def _back(uid: str, today: date | None) -> ResponseReturnValue:
    """See Other: the session page, keeping ``today`` (url_for leaves out None values)."""
    kept = today.isoformat() if today else None
    return redirect(url_for("sessions.session_page", uid=uid, today=kept), 303)


def _render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    body = render_template(
        template,
        kind_name=kind_name,
        state_words=STATE_WORDS.get,
        exercise_line=exercise_line,
        **context,
    )
    return body, status, {"Cache-Control": "no-store"}


@bp.get("/sessions/<uid>")
def session_page(uid: str) -> ResponseReturnValue:
    """One session: when, what, why, any rule it breaks, and what the runner can do with it."""
    today = _today()
    with runtime().db.session() as db:
        runner = current_runner(db)
        try:
            view = session_view(db, runner, uid, today=today or today_for(runner))
        except UnknownSession:
            abort(404)
    return _render("session.html", v=view, keep=_keep(today))


@bp.get("/sessions/<uid>/move")
def move_page(uid: str) -> ResponseReturnValue:
    """The slots offered for the session; with ``to``, a preview of that move and a confirm."""
    today = _today()
    wanted = request.args.get("to")
    with runtime().db.session() as db:
        runner = current_runner(db)
        day = today or today_for(runner)
        if wanted is None:
            return _slots_page(db, runner, uid, today)
        try:
            preview = preview_move(db, runner, uid, wanted, today=day)
        except UnknownSession:
            abort(404)
        except InvalidValue as exc:
            return _slots_page(db, runner, uid, today, error=str(exc), wanted=wanted)
    return _render("session_move.html", preview=preview, v=preview.view, keep=_keep(today))


def _slots_page(
    db: DbSession,
    runner: Runner,
    uid: str,
    today: date | None,
    *,
    error: str | None = None,
    wanted: str = "",
) -> ResponseReturnValue:
    """The slot list; offered from now on (or from the start of ``today`` when it is given)."""
    zone = ZoneInfo(runner.timezone)
    day = today or today_for(runner)
    now = datetime.now(zone)
    not_before = datetime.combine(today, time(), tzinfo=zone) if today else now
    try:
        offer = offered_slots(db, runner, uid, today=day, not_before=not_before)
    except UnknownSession:
        abort(404)
    return _render(
        "session_move.html",
        400 if error else 200,
        offer=offer,
        v=offer.view,
        keep=_keep(today),
        error=error,
        wanted=wanted,
    )


@bp.post("/sessions/<uid>/move")
def move(uid: str) -> ResponseReturnValue:
    """Store the move the runner confirmed; the session keeps its uid, so calendars update."""
    today = _today()
    wanted = request.form.get("to", "")
    with runtime().db.session() as db:
        runner = current_runner(db)
        try:
            view = move_session(db, runner, uid, wanted, today=today or today_for(runner))
        except UnknownSession:
            abort(404)
        except InvalidValue as exc:
            return _slots_page(db, runner, uid, today, error=str(exc), wanted=wanted)
    assert view.session is not None  # a moved session is always placed
    told = f"Moved to {view.session.start:%A %-d %B, %H:%M}."
    if view.conflicts:
        told += " It breaks a rule: " + " ".join(c.reason for c in view.conflicts)
    flash(told)
    return _back(uid, today)


@bp.post("/sessions/<uid>/skip")
def skip(uid: str) -> ResponseReturnValue:
    """Take the session out of the plan until the runner restores it."""
    return _act(uid, skip_session, lambda v: "Skipped. Restore it any time from this page.")


@bp.post("/sessions/<uid>/lock")
def lock(uid: str) -> ResponseReturnValue:
    """Keep the session where it is now, whatever a rebuild would prefer."""
    return _act(uid, lock_session, lambda v: "Locked: rebuilds keep it where it is.")


@bp.post("/sessions/<uid>/restore")
def restore(uid: str) -> ResponseReturnValue:
    """Hand the session back to the planner."""
    return _act(uid, restore_session, _restored)


def _restored(view: SessionView) -> str:
    if view.session is None:
        return "Back to runstrength's choice, which cannot place it this week."
    return f"Back to runstrength's choice: {view.session.start:%A %-d %B, %H:%M}."


def _act(uid: str, action: Action, told: Callable[[SessionView], str]) -> ResponseReturnValue:
    """Run one action, flash its one-line result and go back to the session page."""
    today = _today()
    with runtime().db.session() as db:
        runner = current_runner(db)
        try:
            view = action(db, runner, uid, today=today or today_for(runner))
        except UnknownSession:
            abort(404)
        except NotNow as exc:
            message = str(exc)
        else:
            message = told(view)
    flash(message[0].upper() + message[1:])
    return _back(uid, today)
