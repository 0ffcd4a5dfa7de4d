"""An independent checker of the hard placement rules, written from TRAINING.md, not from the code.

It only reads the request and the plan's output; runner-placed sessions (overrides) are exempt.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.planning.model import Plan, PlanRequest, RunKind, Session, SessionKind

STRENGTH = (SessionKind.UPPER_BODY, SessionKind.CORE)


def race_days(req: PlanRequest) -> set[date]:
    days = {r.local_date for r in req.history if r.is_race}
    days |= {p.day for p in req.planned if p.kind is RunKind.RACE}
    if req.prefs.race is not None:
        days.add(req.prefs.race.day)
    return days


def _known_runs(req: PlanRequest, plan: Plan, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Runs whose start the request states: planned runs with a start, or stated run times."""
    out = []
    minutes = timedelta(minutes=req.prefs.run_minutes)
    planned_weeks = {p.day - timedelta(days=(p.day - req.start).days % 7) for p in req.planned}
    for w in plan.weeks:
        if w.week_start in planned_weeks:
            continue
        for d in w.days:
            t = req.prefs.run_times.get(d.day.weekday())
            if d.run is not RunKind.NONE and t is not None:
                start = datetime.combine(d.day, t, tzinfo=tz)
                out.append((start, start + minutes))
    for p in req.planned:
        if p.start_local is not None and p.kind is not RunKind.NONE:
            start = p.start_local.replace(tzinfo=tz)
            length = timedelta(seconds=p.duration_s) if p.duration_s else minutes
            out.append((start, start + length))
    return out


def _in_window(req: PlanRequest, s: Session, tz: ZoneInfo) -> bool:
    """Whether the session lies inside one window of its weekday (00:00 as an end is midnight)."""
    start, end = s.start.astimezone(tz), s.end.astimezone(tz)
    midnight = datetime.combine(start.date() + timedelta(days=1), time(), tzinfo=tz)
    for w in req.prefs.windows(start.weekday()):
        w_start = datetime.combine(start.date(), w.start, tzinfo=tz)
        w_end = datetime.combine(start.date(), w.end, tzinfo=tz) if w.end != time() else midnight
        if w_start <= start and end <= w_end:
            return True
    return False


def violations(req: PlanRequest, plan: Plan) -> list[str]:
    """Every broken hard rule, as readable lines (empty: none)."""
    tz = ZoneInfo(req.prefs.timezone)
    races = race_days(req)
    long_days = {d.day for w in plan.weeks for d in w.days if d.run is RunKind.LONG}
    runs = _known_runs(req, plan, tz)
    out: list[str] = []
    free = [s for w in plan.weeks for s in w.sessions if s.override is None]
    for s in free:
        day = s.start.astimezone(tz).date()
        tag = f"{s.kind.value} {day} {s.start.time()}"
        if day in races:
            out.append(f"rule 1: {tag} on race day")
        if s.kind in STRENGTH and any(1 <= (r - day).days <= 2 for r in races):
            out.append(f"rule 1: {tag} is strength within 2 days before a race")
        if s.kind is not SessionKind.CORE and day + timedelta(days=1) in long_days:
            out.append(f"rule 2: {tag} the day before the long run")
        if not _in_window(req, s, tz):
            out.append(f"rule 5: {tag} outside the windows")
        if any(a < s.end and s.start < b for a, b in runs):
            out.append(f"rule 5: {tag} overlaps a run")
    upper = sorted(
        s.start.astimezone(tz).date()
        for w in plan.weeks
        for s in w.sessions
        if s.kind is SessionKind.UPPER_BODY
    )
    out += [
        f"rule 3: upper body {a} and {b}" for a, b in itertools.pairwise(upper) if (b - a).days < 2
    ]
    for w in plan.weeks:
        busy = {s.start.astimezone(tz).date() for s in w.sessions}
        rest = [d.day for d in w.days if d.run is RunKind.NONE]
        if rest and all(d in busy for d in rest):
            out.append(f"rule 4: no full rest day in the week of {w.week_start}")
    return out
