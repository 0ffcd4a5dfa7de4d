"""The runner record: the default runner of a personal install and changes to its basics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import tzlocal
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from service.db import note_for_commit
from service.models import Activity, Runner, utcnow
from service.planning.model import Preferences
from service.preferences import WEEKDAYS, preferences_to_mapping

UNITS = ("km", "mi")
PLAN_CHANGED = "plan_changed"  # commit-note topic: the Runner objects whose plan changed


class InvalidValue(ValueError):
    """A value the runner gave is not acceptable; the message says why."""


def system_timezone() -> str:
    """The machine's IANA zone name, or UTC when it cannot be told."""
    try:
        name = tzlocal.get_localzone_name()
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "UTC"
    return name if name and is_zone(name) else "UTC"


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def default_runner(session: Session) -> Runner:
    """The installation's first runner, created with system defaults when there is none."""
    runner = session.scalars(select(Runner).order_by(Runner.id).limit(1)).first()
    if runner is None:
        runner = Runner(
            name="", timezone=system_timezone(), units="km", week_start=0, preferences={}
        )
        session.add(runner)
        session.flush()
    return runner


@dataclass(frozen=True, slots=True)
class RunnerChange:
    """Fields a runner may change; None leaves a field as it is."""

    timezone: str | None = None
    units: str | None = None
    week_start: str | None = None
    name: str | None = None


def update_runner(session: Session, runner: Runner, change: RunnerChange) -> Runner:
    """Apply a change after checking every value; a new zone re-dates runs without an offset."""
    if change.timezone is not None:
        if not is_zone(change.timezone) or change.timezone not in available_timezones():
            raise InvalidValue(
                f"unknown time zone {change.timezone!r} (use an IANA name like Europe/Berlin)"
            )
        if change.timezone != runner.timezone:
            runner.timezone = change.timezone
            _redate_activities(session, runner)
    if change.units is not None:
        if change.units not in UNITS:
            raise InvalidValue(f"units must be km or mi, not {change.units!r}")
        runner.units = change.units
    if change.week_start is not None:
        day = change.week_start.lower()
        if day not in WEEKDAYS:
            raise InvalidValue(f"week start must be a weekday name, not {change.week_start!r}")
        runner.week_start = WEEKDAYS.index(day)
    if change.name is not None:
        runner.name = change.name.strip()
    mark_plan_changed(runner)
    session.flush()
    return runner


def mark_plan_changed(runner: Runner) -> None:
    """Record that the plan's inputs changed: feeds render again, calendars publish after commit."""
    runner.plan_changed_at = utcnow()
    session = object_session(runner)
    if session is not None:
        note_for_commit(session, PLAN_CHANGED, runner)


def local_date_of(start_utc: datetime, utc_offset_s: int | None, timezone: str) -> date:
    """The local date of a start: the source's offset when it gave one, else the runner's zone."""
    if utc_offset_s is not None:
        return (start_utc.astimezone(UTC) + timedelta(seconds=utc_offset_s)).date()
    return start_utc.astimezone(ZoneInfo(timezone)).date()


def _redate_activities(session: Session, runner: Runner) -> None:
    rows = session.scalars(
        select(Activity).where(Activity.runner_id == runner.id, Activity.utc_offset_s.is_(None))
    )
    for activity in rows:
        activity.local_date = local_date_of(activity.start_utc, None, runner.timezone)


def store_preferences(session: Session, runner: Runner, prefs: Preferences) -> Runner:
    """Keep new preferences: zone, units and week start in their columns, the rest as JSON."""
    change = RunnerChange(
        timezone=prefs.timezone, units=prefs.units, week_start=WEEKDAYS[prefs.week_start]
    )
    update_runner(session, runner, change)
    stored = preferences_to_mapping(prefs)
    for key in ("timezone", "units", "week_start"):
        stored.pop(key)
    runner.preferences = stored
    session.flush()
    return runner
