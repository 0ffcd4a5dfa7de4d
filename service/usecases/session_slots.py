"""One session up close: its state and conflicts, the slots it may move to, and a dry run of a
move that stores nothing (the planner is pure, so a hypothetical override is planned in memory).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session as DbSession

from service.models import Runner
from service.planning.model import (
    Override,
    OverrideAction,
    Plan,
    PlanRequest,
    Session,
    SessionKind,
    Skipped,
    WeekPlan,
)
from service.planning.pattern import infer_pattern, week_runs, with_done_runs
from service.planning.placement import SESSION_GAP_MIN
from service.planning.planner import build_plan
from service.planning.slots import GRID_MIN as FINE_GRID_MIN
from service.planning.slots import Interval, subtract, window_minutes
from service.usecases.build_plan import find_session, overrides, past_runs, runner_preferences
from service.usecases.overrides import UnknownSession, search_window
from service.usecases.runners import InvalidValue
from service.usecases.session_conflicts import caused, worded

GRID_MIN = 30  # offered starts: on the hour and half hour
RUNNER_SKIPPED = "runner-skipped"
STATES = ("planned", "moved", "locked", "skipped", "not_placed")
START_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z)?", re.ASCII)
START_EXAMPLE = "2026-11-26T18:30 (your local time) or 2026-11-26T18:30+01:00"


class NotNow(ValueError):
    """The session's state rules the action out (lock a skipped one, restore an unmoved one)."""


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session and what the runner may do with it; ``content`` is what it holds, even when it
    is not placed (then as it would be if the runner put it back)."""

    uid: str
    kind: SessionKind
    week_start: date
    state: str  # one of STATES
    session: Session | None
    content: Session
    not_placed: Skipped | None
    conflicts: tuple[Skipped, ...]

    @property
    def restorable(self) -> bool:
        return self.state in ("moved", "locked", "skipped")

    @property
    def minutes(self) -> int:
        return self.content.duration_min

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


@dataclass(frozen=True, slots=True)
class OfferedSlot:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OfferedDay:
    """One day of the session's week: the slots offered and what a move there would break."""

    day: date
    slots: tuple[OfferedSlot, ...]
    conflicts: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True)
class Offer:
    view: SessionView
    days: tuple[OfferedDay, ...]


@dataclass(frozen=True, slots=True)
class MovePreview:
    """What a move would do, worked out without storing anything."""

    view: SessionView
    start: datetime
    end: datetime
    conflicts: tuple[Skipped, ...]
    displaced: tuple[Skipped, ...]  # sessions the planner could then no longer place


@dataclass(frozen=True, slots=True)
class _Lookup:
    request: PlanRequest
    plan: Plan
    index: int  # of the session's week in plan.weeks

    @property
    def week(self) -> WeekPlan:
        return self.plan.weeks[self.index]


def _lookup(db: DbSession, runner: Runner, uid: str, today: date) -> _Lookup:
    """The runner's plan over the overrides' search window, and the week holding ``uid``."""
    window = search_window(runner, today)
    request = PlanRequest(
        runner_key=runner.plan_key,
        prefs=runner_preferences(runner),
        history=past_runs(db, runner, today),
        today=today,
        start=window.start,
        weeks=window.weeks,
        overrides=overrides(db, runner),
    )
    plan = build_plan(request)
    for index, week in enumerate(plan.weeks):
        if any(s.uid == uid for s in week.sessions) or any(s.uid == uid for s in week.skipped):
            return _Lookup(request, plan, index)
    raise UnknownSession(f"no session {uid} in your plan")


def _dry_run(look: _Lookup, uid: str, start: datetime) -> WeekPlan:
    """The session's week as it would be with ``uid`` moved to ``start``; nothing is stored.

    Weeks after the session's cannot change it, so only the weeks up to it are planned."""
    others = tuple(o for o in look.request.overrides if o.uid != uid)
    moved = Override(uid, OverrideAction.MOVE, start)
    request = replace(look.request, weeks=look.index + 1, overrides=(*others, moved))
    return build_plan(request).weeks[look.index]


def _view(look: _Lookup, uid: str) -> SessionView:
    week = look.week
    placed = find_session(look.plan, uid)
    missing = next((s for s in week.skipped if s.uid == uid), None)
    conflicts = tuple(worded(c) for c in week.conflicts if c.uid == uid)
    if placed is not None:
        state = {None: "planned", OverrideAction.MOVE: "moved", OverrideAction.LOCK: "locked"}
        name = state.get(placed.override, "planned")
        return SessionView(uid, placed.kind, week.week_start, name, placed, placed, None, conflicts)
    assert missing is not None  # _lookup found the uid in this week
    noon = datetime.combine(week.week_start, datetime.min.time()).replace(hour=12)
    would_be = find_session(Plan(look.plan.prefs, (_dry_run(look, uid, _aware(look, noon)),)), uid)
    assert would_be is not None  # a pinned session is always placed
    state_name = "skipped" if missing.rule == RUNNER_SKIPPED else "not_placed"
    return SessionView(
        uid, missing.kind, week.week_start, state_name, None, would_be, missing, conflicts
    )


def _aware(look: _Lookup, naive: datetime) -> datetime:
    return naive.replace(tzinfo=ZoneInfo(look.request.prefs.timezone))


def session_view(db: DbSession, runner: Runner, uid: str, *, today: date) -> SessionView:
    """The session with this uid as the runner's plan has it now (UnknownSession if none)."""
    return _view(_lookup(db, runner, uid, today), uid)


def offered_slots(
    db: DbSession, runner: Runner, uid: str, *, today: date, not_before: datetime
) -> Offer:
    """Starts on a 30-minute grid in the session's week, inside the runner's windows and clear
    of runs and of the sessions the runner placed, each day with the rules a move there breaks."""
    look = _lookup(db, runner, uid, today)
    view = _view(look, uid)
    free = _free_minutes(look, uid)
    zone = ZoneInfo(look.request.prefs.timezone)
    days = []
    for offset in range(7):
        day = view.week_start + timedelta(days=offset)
        length = timedelta(minutes=view.minutes)
        slots = tuple(
            OfferedSlot(s, s + length)
            for s in _grid(day, free.get(day, []), view.minutes, zone)
            if s >= not_before
        )
        if slots:
            after = _dry_run(look, uid, slots[0].start)
            days.append(OfferedDay(day, slots, caused(look.week, after, uid)))
    return Offer(view, tuple(days))


def _free_minutes(look: _Lookup, uid: str) -> dict[date, list[Interval]]:
    """Per day of the week: the runner's windows minus runs and the other runner-placed sessions."""
    request, ws = look.request, look.week.week_start
    prefs = request.prefs
    pattern = infer_pattern(request.history, request.today, prefs)
    expected = week_runs(pattern, prefs, request.planned, ws)
    runs = with_done_runs(expected, request.history, request.today, pattern, prefs)
    pinned = [s for s in look.week.sessions if s.override is not None and s.uid != uid]
    out = {}
    for run_day in runs:
        busy = [slot.busy for slot in run_day.slots]
        busy += [
            (_minute(s.start) - SESSION_GAP_MIN, _minute(s.end) + SESSION_GAP_MIN)
            for s in pinned
            if s.day == run_day.day
        ]
        windows = window_minutes(prefs.windows(run_day.day.weekday()))
        out[run_day.day] = subtract(windows, busy)
    return out


def _minute(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _grid(day: date, free: list[Interval], minutes: int, zone: ZoneInfo) -> list[datetime]:
    """Half-hour starts where the whole session fits one free stretch (a stretch too short for
    any of them offers its earliest 5-minute start); clock-change gaps are left out."""
    out = []
    for a, b in free:
        starts = list(range(math.ceil(a / GRID_MIN) * GRID_MIN, b - minutes + 1, GRID_MIN))
        earliest = math.ceil(a / FINE_GRID_MIN) * FINE_GRID_MIN
        if not starts and earliest + minutes <= b:
            starts = [earliest]
        for minute in starts:
            naive = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
            if exists_once(naive, zone) and exists_once(naive + timedelta(minutes=minutes), zone):
                out.append(naive.replace(tzinfo=zone))
    return out


def exists_once(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time happens exactly once (not skipped nor repeated by DST)."""
    first, second = naive.replace(tzinfo=zone), naive.replace(tzinfo=zone, fold=1)
    return first.utcoffset() == second.utcoffset()


def preview_move(
    db: DbSession, runner: Runner, uid: str, start: datetime | str, *, today: date
) -> MovePreview:
    """What moving ``uid`` to ``start`` would break and push out, without storing anything.

    A text ``start`` is read only once the session is found: an unknown uid is never a 400."""
    look = _lookup(db, runner, uid, today)
    view = _view(look, uid)
    start = _in_week(view, parse_start(runner, start) if isinstance(start, str) else start)
    after = _dry_run(look, uid, start)
    was_missing = {s.uid for s in look.week.skipped}
    displaced = tuple(s for s in after.skipped if s.uid != uid and s.uid not in was_missing)
    end = start + timedelta(minutes=view.minutes)
    return MovePreview(view, start, end, caused(look.week, after, uid), displaced)


def _in_week(view: SessionView, start: datetime) -> datetime:
    """``start`` in the runner's zone, refused unless it falls in the session's own week."""
    local = start.astimezone(view.content.start.tzinfo)
    last = view.week_end
    if not view.week_start <= local.date() <= last:
        raise InvalidValue(
            f"pick a time from {view.week_start:%a %d %b} to {last:%a %d %b %Y}: "
            "a session stays in its own week"
        )
    return local


def parse_start(runner: Runner, text: str) -> datetime:
    """An ISO date and time with an offset, or without one as the runner's local time."""
    raw = text.strip()
    if not START_SHAPE.fullmatch(raw):
        raise InvalidValue(f"expected a date and time like {START_EXAMPLE}, got {text[:40]!r}")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidValue(f"{raw!r} is not a real date and time") from None
    if moment.second or moment.microsecond:
        raise InvalidValue("use whole minutes, e.g. 18:30")
    zone = ZoneInfo(runner.timezone)
    if moment.tzinfo is not None:
        return moment.astimezone(zone)
    if not exists_once(moment, zone):
        raise InvalidValue(f"{moment:%H:%M} does not happen once that day: the clocks change")
    return moment.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
