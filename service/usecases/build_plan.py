"""Build a runner's plan: gather preferences, run history and overrides, then ask the planner."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from integrations.errors import BadFile
from integrations.files import read_file
from integrations.files.sources import Walk
from integrations.types import ExternalActivity, PlannedRun, RunKind
from service.models import Activity, PlannedRunRecord, Runner, SessionOverride
from service.planning.model import (
    Override,
    OverrideAction,
    PastRun,
    Plan,
    PlanRequest,
    Preferences,
    Session,
)
from service.planning.picture import week_start_of
from service.planning.planner import build_plan
from service.preferences import parse_preferences
from service.usecases.history import RUN_SPORTS
from service.usecases.import_files import is_same_activity
from service.usecases.runners import local_date_of

HISTORY = timedelta(weeks=16)  # pattern (6 weeks), load (28 days), recent races
STATELESS_KEY = "stateless"


@dataclass(frozen=True, slots=True)
class Horizon:
    """Which weeks to plan: ``weeks`` weeks from ``start``, as seen on ``today``."""

    today: date
    start: date
    weeks: int


def plan_window(prefs: Preferences, today: date, start: date | None, weeks: int) -> Horizon:
    """Default to the week holding ``today``; any start snaps back to the runner's week start."""
    first = week_start_of(start or today, prefs.week_start)
    return Horizon(today=today, start=first, weeks=weeks)


def runner_preferences(runner: Runner) -> Preferences:
    """The stored preferences with the runner's own zone, units and week start."""
    prefs = parse_preferences(runner.preferences or {})
    return replace(
        prefs, timezone=runner.timezone, units=runner.units, week_start=runner.week_start
    )


def past_runs(db: DbSession, runner: Runner, today: date) -> tuple[PastRun, ...]:
    """The runner's runs of the last 16 weeks up to today, oldest first."""
    rows = db.scalars(
        select(Activity)
        .where(
            Activity.runner_id == runner.id,
            Activity.sport.in_(RUN_SPORTS),
            Activity.local_date.between(today - HISTORY, today),
        )
        .order_by(Activity.start_utc, Activity.id)
    )
    return tuple(_past_run(a.start_utc, a.utc_offset_s, runner.timezone, a) for a in rows)


def _past_run(
    start_utc: datetime, offset: int | None, zone: str, a: Activity | ExternalActivity
) -> PastRun:
    if offset is None:
        local = start_utc.astimezone(ZoneInfo(zone))
    else:
        local = start_utc.astimezone(timezone(timedelta(seconds=offset)))
    return PastRun(
        local_date=local_date_of(start_utc, offset, zone),
        distance_m=a.distance_m,
        moving_s=a.moving_s or a.elapsed_s or 0.0,
        start_local=local,
        is_race=a.is_race,
        is_workout=a.is_workout,
    )


def overrides(db: DbSession, runner: Runner) -> tuple[Override, ...]:
    """The runner's session overrides, with starts in the runner's zone."""
    zone = ZoneInfo(runner.timezone)
    rows = db.scalars(
        select(SessionOverride)
        .where(SessionOverride.runner_id == runner.id)
        .order_by(SessionOverride.uid)
    )
    return tuple(
        Override(
            uid=o.uid,
            action=OverrideAction(o.action),
            start=o.start_utc.astimezone(zone) if o.start_utc else None,
        )
        for o in rows
    )


def planned_runs(db: DbSession, runner: Runner, first: date, last: date) -> tuple[PlannedRun, ...]:
    """Runs on the runner's training calendar from ``first`` to ``last``, for the planner."""
    rows = db.scalars(
        select(PlannedRunRecord)
        .where(PlannedRunRecord.runner_id == runner.id, PlannedRunRecord.day.between(first, last))
        .order_by(PlannedRunRecord.day, PlannedRunRecord.start_local, PlannedRunRecord.id)
    )
    return tuple(
        PlannedRun(
            day=r.day,
            kind=RunKind(r.kind),
            distance_m=r.distance_m,
            start_local=_wall_clock(r.day, r.start_local),
            duration_s=r.duration_s,
            name=r.name,
        )
        for r in rows
    )


def _wall_clock(day: date, hh_mm: str | None) -> datetime | None:
    return None if not hh_mm else datetime.combine(day, time.fromisoformat(hh_mm))


def plan_for_runner(db: DbSession, runner: Runner, window: Horizon) -> Plan:
    """The stored runner's plan for the window, around the runs their training calendar holds."""
    # The planner also projects the days between today and the window (load ratio).
    first = min(window.today, window.start)
    last = window.start + timedelta(weeks=window.weeks, days=-1)
    request = PlanRequest(
        runner_key=runner.plan_key,
        prefs=runner_preferences(runner),
        history=past_runs(db, runner, window.today),
        today=window.today,
        start=window.start,
        weeks=window.weeks,
        overrides=overrides(db, runner),
        planned=planned_runs(db, runner, first, last),
    )
    return build_plan(request)


@dataclass(frozen=True, slots=True)
class FilePlan:
    plan: Plan
    rejected: list[tuple[str, str]]


def plan_from_files(paths: Sequence[Path], prefs: Preferences, window: Horizon) -> FilePlan:
    """A plan straight from workout files, with no database: the stateless mode."""
    found: list[ExternalActivity] = []
    rejected: list[tuple[str, str]] = []
    for source in Walk(paths).sources():
        try:
            found.extend(read_file(source.read(), source.name).activities)
        except BadFile as exc:
            rejected.append((source.name, str(exc)))
    runs = [a for a in _unique(found) if a.sport.is_run]
    history = tuple(
        _past_run(a.start_utc, a.utc_offset_s, prefs.timezone, a)
        for a in sorted(runs, key=lambda a: a.start_utc)
    )
    first = window.today - HISTORY
    request = PlanRequest(
        runner_key=STATELESS_KEY,
        prefs=prefs,
        history=tuple(r for r in history if first <= r.local_date <= window.today),
        today=window.today,
        start=window.start,
        weeks=window.weeks,
    )
    return FilePlan(build_plan(request), rejected)


def _unique(activities: Iterable[ExternalActivity]) -> list[ExternalActivity]:
    kept: list[ExternalActivity] = []
    for activity in sorted(activities, key=lambda a: (a.start_utc, a.source, a.source_id)):
        if not any(is_same_activity(k, activity) for k in kept[-8:]):
            kept.append(activity)
    return kept


def find_session(plan: Plan, uid: str) -> Session | None:
    """The session with this uid in the plan, if any."""
    for week in plan.weeks:
        for session in week.sessions:
            if session.uid == uid:
                return session
    return None


def inputs_revised(db: DbSession, runner: Runner) -> datetime:
    """When the plan's stored inputs last changed: newest activity or override, else the runner."""
    newest = [
        db.scalar(select(func.max(Activity.created_at)).where(Activity.runner_id == runner.id)),
        db.scalar(
            select(func.max(SessionOverride.updated_at)).where(
                SessionOverride.runner_id == runner.id
            )
        ),
        runner.created_at,
    ]
    return max(_aware(t) for t in newest if t is not None)


def _aware(moment: datetime) -> datetime:
    # func.max bypasses the column type on SQLite and hands back a naive UTC value.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
