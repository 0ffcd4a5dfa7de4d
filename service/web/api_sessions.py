"""The session actions as JSON under /api/v1: look, list slots, preview a move, move, skip,
lock, restore; every answer is the session as it now stands, with its conflicts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session as DbSession

from service.app import runtime
from service.models import Runner
from service.plan_view import session_json
from service.planning.model import Skipped
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
from service.web.api_sessions_schemas import MOVE, MOVE_PREVIEW, SESSION_STATE, SLOTS
from service.web.api_sessions_schemas import START as START_SCHEMA
from service.web.auth import current_runner
from service.web.openapi import ERROR_BODY, operation
from service.web.params import Param, date_param

bp = Blueprint("api_sessions", __name__, url_prefix="/api/v1")

TODAY = date_param("today", "Act as if today were this local date (default: today).")
START = Param(
    "start",
    "ISO 8601 date and time, with an offset or in the runner's zone.",
    START_SCHEMA,
    str,
    required=True,
    example="2026-11-26T18:30:00+01:00",
)
UNKNOWN = {404: ("No session with this uid in the runner's plan.", ERROR_BODY)}
REFUSED = {409: ("The session's state rules this action out.", ERROR_BODY)}
Answer = tuple[Any, int]


def _missing(uid: str) -> Answer:
    return jsonify(error=f"not found: no session {uid} in your plan"), 404


def _conflict_json(conflict: Skipped) -> dict[str, Any]:
    out = {"kind": conflict.kind.value, "rule": conflict.rule, "reason": conflict.reason}
    if conflict.uid:
        out["uid"] = conflict.uid
    return out


def view_json(view: SessionView) -> dict[str, Any]:
    """The session JSON of the plan, or its content when it is not placed, with its state."""
    out = session_json(view.session or view.content)
    if view.session is None:
        for key in ("date", "start", "end", "why", "override"):
            del out[key]
    out.update(
        state=view.state,
        week_start=view.week_start.isoformat(),
        conflicts=[_conflict_json(c) for c in view.conflicts],
    )
    if view.not_placed is not None:
        out["not_placed"] = {"rule": view.not_placed.rule, "reason": view.not_placed.reason}
    return out


def _with_runner(
    uid: str, today: date | None, work: Callable[[DbSession, Runner, date], Answer]
) -> Answer:
    """Run ``work`` for the signed-in runner in one transaction; unknown uids are a 404."""
    with runtime().db.session() as db:
        runner = current_runner(db)
        try:
            return work(db, runner, today or today_for(runner))
        except UnknownSession:
            return _missing(uid)


@bp.get("/sessions/<uid>")
@operation(
    "One session with its state and the hard rules it breaks.",
    params=(TODAY,),
    ok=SESSION_STATE,
    errors=UNKNOWN,
)
def session(uid: str, today: date | None) -> ResponseReturnValue:
    """The session as the runner's plan has it now."""

    def work(db: DbSession, runner: Runner, day: date) -> Answer:
        return jsonify(view_json(session_view(db, runner, uid, today=day))), 200

    return _with_runner(uid, today, work)


@bp.get("/sessions/<uid>/slots")
@operation(
    "Where the session may move: starts in its week, each with the rules a move there breaks.",
    description="Half-hour starts inside the runner's available times, clear of runs and of "
    "sessions the runner placed; from now on (or from the start of `today` when given).",
    params=(TODAY,),
    ok=SLOTS,
    errors=UNKNOWN,
)
def slots(uid: str, today: date | None) -> ResponseReturnValue:
    """The offered slots; nothing is stored."""

    def work(db: DbSession, runner: Runner, day: date) -> Answer:
        zone = ZoneInfo(runner.timezone)
        since = datetime.combine(today, time(), tzinfo=zone) if today else datetime.now(zone)
        offer = offered_slots(db, runner, uid, today=day, not_before=since)
        listed = [
            {
                "start": slot.start.isoformat(),
                "end": slot.end.isoformat(),
                "conflicts": [_conflict_json(c) for c in d.conflicts],
            }
            for d in offer.days
            for slot in d.slots
        ]
        body = {
            "uid": uid,
            "week_start": offer.view.week_start.isoformat(),
            "duration_min": offer.view.minutes,
            "slots": listed,
        }
        return jsonify(body), 200

    return _with_runner(uid, today, work)


@bp.get("/sessions/<uid>/preview")
@operation(
    "What moving the session to `start` would break, without storing anything.",
    params=(START, TODAY),
    ok=MOVE_PREVIEW,
    errors=UNKNOWN,
)
def preview(uid: str, start: str, today: date | None) -> ResponseReturnValue:
    """A dry run of a move."""

    def work(db: DbSession, runner: Runner, day: date) -> Answer:
        try:
            found = preview_move(db, runner, uid, start, today=day)
        except InvalidValue as exc:
            return jsonify(error=f"start: {exc}"), 400
        body = {
            "uid": uid,
            "start": found.start.isoformat(),
            "end": found.end.isoformat(),
            "conflicts": [_conflict_json(c) for c in found.conflicts],
            "displaced": [_conflict_json(c) for c in found.displaced],
        }
        return jsonify(body), 200

    return _with_runner(uid, today, work)


@bp.post("/sessions/<uid>/move")
@operation(
    "Move the session to `start` in its own week; it keeps its uid, so calendars update.",
    description="A move that breaks a hard rule is stored and the rule is named in `conflicts`.",
    params=(TODAY,),
    body=MOVE,
    ok=SESSION_STATE,
    errors=UNKNOWN,
)
def move(uid: str, today: date | None, body: dict[str, Any]) -> ResponseReturnValue:
    """Store the runner's move."""
    extra = sorted(set(body) - {"start"})
    if extra:
        return jsonify(error=f"unknown field {extra[0]!r} (allowed: start)"), 400
    raw = body.get("start")
    if not isinstance(raw, str):
        return jsonify(error="start: expected a date and time as a string"), 400

    def work(db: DbSession, runner: Runner, day: date) -> Answer:
        try:
            view = move_session(db, runner, uid, raw, today=day)
        except InvalidValue as exc:
            return jsonify(error=f"start: {exc}"), 400
        return jsonify(view_json(view)), 200

    return _with_runner(uid, today, work)


def _action(action: Callable[..., SessionView]) -> Callable[[str, date | None], Answer]:
    def answer(uid: str, today: date | None) -> Answer:
        def work(db: DbSession, runner: Runner, day: date) -> Answer:
            try:
                view = action(db, runner, uid, today=day)
            except NotNow as exc:
                return jsonify(error=f"conflict: {exc}"), 409
            return jsonify(view_json(view)), 200

        return _with_runner(uid, today, work)

    return answer


@bp.post("/sessions/<uid>/skip")
@operation(
    "Skip the session until the runner restores it.",
    params=(TODAY,),
    ok=SESSION_STATE,
    errors=UNKNOWN,
)
def skip(uid: str, today: date | None) -> ResponseReturnValue:
    """Store a skip."""
    return _action(skip_session)(uid, today)


@bp.post("/sessions/<uid>/lock")
@operation(
    "Lock a placed session where it is now, whatever later rebuilds prefer.",
    params=(TODAY,),
    ok=SESSION_STATE,
    errors={**UNKNOWN, **REFUSED},
)
def lock(uid: str, today: date | None) -> ResponseReturnValue:
    """Store a lock at the session's current start."""
    return _action(lock_session)(uid, today)


@bp.post("/sessions/<uid>/restore")
@operation(
    "Undo the runner's move, skip or lock: runstrength places the session again.",
    params=(TODAY,),
    ok=SESSION_STATE,
    errors={**UNKNOWN, **REFUSED},
)
def restore(uid: str, today: date | None) -> ResponseReturnValue:
    """Forget the runner's say over the session."""
    return _action(restore_session)(uid, today)
