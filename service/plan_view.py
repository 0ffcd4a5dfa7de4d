"""The plan as runners and programs read it: DESIGN.md's JSON, a terminal table, iCalendar."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy.orm import Session as DbSession

from integrations.calendar.ical import render_calendar
from integrations.types import CalendarEvent
from service.app import Runtime
from service.models import Runner
from service.planning.model import (
    Exercise,
    OverrideAction,
    Plan,
    Preferences,
    Session,
    SessionKind,
    Skipped,
    WeekPlan,
)
from service.preferences import WEEKDAYS, load_toml, parse_preferences
from service.usecases.build_plan import (
    inputs_revised,
    plan_for_runner,
    plan_from_files,
    plan_window,
    runner_preferences,
)
from service.usecases.history import today_for
from service.usecases.overrides import apply_override, local_slot, restore
from service.usecases.runners import default_runner, store_preferences

KIND_NAMES = {
    SessionKind.UPPER_BODY: "Upper body",
    SessionKind.CORE: "Core",
    SessionKind.CROSS_TRAINING: "Cross-training",
}


def kind_name(kind: SessionKind | str) -> str:
    """A session kind in words, for pages."""
    try:
        return KIND_NAMES[SessionKind(kind)]
    except ValueError:
        return str(kind)


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan in the JSON shape DESIGN.md fixes (plus each week's conflicts)."""
    prefs = plan.prefs
    return {
        "runner": {
            "timezone": prefs.timezone,
            "units": prefs.units,
            "week_start": WEEKDAYS[prefs.week_start],
        },
        "weeks": [_week_json(w) for w in plan.weeks],
    }


def _week_json(week: WeekPlan) -> dict[str, Any]:
    return {
        "week_start": week.week_start.isoformat(),
        "phase": week.phase,
        "deload": week.deload,
        "mileage_km": round(week.mileage_km, 2),
        "load_ratio": None if week.load_ratio is None else round(week.load_ratio, 3),
        "days": [
            {"date": d.day.isoformat(), "run": d.run.value, "planned_km": round(d.planned_km, 2)}
            for d in week.days
        ],
        "sessions": [session_json(s) for s in week.sessions],
        "skipped": [_skipped_json(s) for s in week.skipped],
        "conflicts": [_skipped_json(s) for s in week.conflicts],
    }


def session_json(session: Session) -> dict[str, Any]:
    """One session with ISO times that carry the runner's offset."""
    return {
        "uid": session.uid,
        "date": session.day.isoformat(),
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "kind": session.kind.value,
        "variant": session.variant,
        "title": session.title,
        "duration_min": session.duration_min,
        "exercises": [_exercise_json(e) for e in session.exercises],
        "why": session.why,
        "override": session.override.value if session.override else None,
    }


def _exercise_json(exercise: Exercise) -> dict[str, Any]:
    out: dict[str, Any] = {"name": exercise.name, "sets": exercise.sets}
    for key in ("reps", "hold_s", "minutes"):
        value = getattr(exercise, key)
        if value is not None:
            out[key] = value
    return out


def _skipped_json(skipped: Skipped) -> dict[str, Any]:
    out = {"kind": skipped.kind.value, "rule": skipped.rule, "reason": skipped.reason}
    if skipped.uid:
        out["uid"] = skipped.uid
    return out


def exercise_line(exercise: Exercise) -> str:
    """'Bench press: 3 x 8-12' / 'Plank: 3 x 30-60 s' / 'Swim: 40 min'."""
    if exercise.minutes is not None:
        return f"{exercise.name}: {exercise.minutes} min"
    amount = exercise.reps or f"{exercise.hold_s} s"
    return f"{exercise.name}: {exercise.sets} x {amount}"


def plan_table(plan: Plan) -> str:
    """A readable week-by-week listing for the terminal."""
    lines: list[str] = []
    for week in plan.weeks:
        ratio = "n/a" if week.load_ratio is None else f"{week.load_ratio:.2f}"
        deload = ", deload week" if week.deload else ""
        lines.append(
            f"Week of {week.week_start:%a %d %b %Y}: {week.phase} phase{deload}, "
            f"{week.mileage_km:.1f} km, load ratio {ratio}"
        )
        runs = {d.day: d for d in week.days}
        for day in sorted(runs):
            run = runs[day]
            run_text = "rest" if run.run.value == "none" else f"{run.run.value} run"
            if run.planned_km:
                run_text += f" {run.planned_km:.1f} km"
            lines.append(f"  {day:%a %d %b}  {run_text}")
            for session in (s for s in week.sessions if s.day == day):
                lines.append(f"      {session.start:%H:%M}-{session.end:%H:%M}  {session.title}")
                lines.extend(f"          {exercise_line(e)}" for e in session.exercises)
                lines.append(f"          why: {session.why}")
        for skipped in week.skipped:
            lines.append(f"  not placed: {skipped.kind.value} ({skipped.rule}): {skipped.reason}")
        for conflict in week.conflicts:
            lines.append(f"  conflict: {conflict.kind.value} ({conflict.rule}): {conflict.reason}")
    return "\n".join(lines)


def session_description(session: Session) -> str:
    """Calendar text: the exercises, then why the session sits where it does."""
    parts = [exercise_line(e) for e in session.exercises]
    return "\n".join([*parts, "", f"Why here: {session.why}"])


def plan_ics(plan: Plan, *, revised: datetime, name: str = "runstrength") -> bytes:
    """The plan's sessions as an iCalendar document."""
    events = [
        CalendarEvent(
            uid=session.uid,
            start=session.start,
            end=session.end,
            summary=session.title,
            description=session_description(session),
            categories=(session.kind.value,),
            revised=revised,
        )
        for week in plan.weeks
        for session in week.sessions
    ]
    return render_calendar(events, name=name, timezone=plan.prefs.timezone)


def stateless_plan(
    sources: Sequence[Path],
    prefs_file: Path | None,
    today: date | None,
    start: date | None,
    weeks: int,
) -> tuple[Plan, datetime]:
    """Plan from files and a preferences file, touching no database."""
    prefs = parse_preferences(load_toml(prefs_file)) if prefs_file else Preferences()
    day = today or datetime.now(ZoneInfo(prefs.timezone)).date()
    result = plan_from_files(sources, prefs, plan_window(prefs, day, start, weeks))
    for name, reason in result.rejected:
        click.echo(f"skipped {name}: {reason}", err=True)
    # No store, so no revision history: the plan is as of the start of ``today``.
    revised = datetime.combine(day, time(0), tzinfo=ZoneInfo(prefs.timezone)).astimezone(UTC)
    return result.plan, revised


def stored_plan(
    rt: Runtime,
    today: date | None,
    start: date | None,
    weeks: int,
    pick: Callable[[DbSession], Runner] = default_runner,
) -> tuple[Plan, datetime]:
    """A stored runner's plan (default: the installation's first) and when its inputs changed."""
    with rt.db.session() as db:
        runner = pick(db)
        day = today or today_for(runner)
        window = plan_window(runner_preferences(runner), day, start, weeks)
        return plan_for_runner(db, runner, window), inputs_revised(db, runner)


def print_plan(plan: Plan, fmt: str | None, revised: datetime) -> None:
    """Echo the plan as JSON, iCalendar bytes or the table."""
    if fmt == "json":
        click.echo(json.dumps(plan_json(plan), indent=2, ensure_ascii=False))
    elif fmt == "ics":
        click.echo(plan_ics(plan, revised=revised), nl=False)
    else:
        click.echo(plan_table(plan))


def override(
    rt: Runtime, uid: str, action: OverrideAction | None, slot: str | None, today: date | None
) -> None:
    """Store (or with no action, undo) a runner's decision about one session and say what it did."""
    with rt.db.session() as db:
        runner = default_runner(db)
        if action is None:
            restore(db, runner, uid)
            click.echo(f"session {uid}: back to the planner's choice")
            return
        start = local_slot(runner, slot) if slot else None
        day = today or today_for(runner)
        conflicts = apply_override(db, runner, uid, action, today=day, start=start)
    click.echo(f"session {uid}: {action.value}" + (f" to {start:%a %d %b %H:%M}" if start else ""))
    for conflict in conflicts:
        click.echo(f"warning: this breaks {conflict.rule}: {conflict.reason}", err=True)


def store_prefs(rt: Runtime, path: Path) -> None:
    """Read a preferences file and keep it for the default runner."""
    with rt.db.session() as db:
        runner = default_runner(db)
        prefs = parse_preferences(load_toml(path), base=runner_preferences(runner))
        store_preferences(db, runner, prefs)
