"""The runner's recorded history: stored activities and the weekly mileage they add up to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from integrations.types import Sport
from service.models import Activity, Runner
from service.planning.picture import (
    Run,
    WeekMileage,
    four_week_average_m,
    load_ratio,
    weekly_mileage,
)

RUN_SPORTS = tuple(s.value for s in Sport if s.is_run)


@dataclass(frozen=True, slots=True)
class MileageReport:
    """Weekly mileage with the 4-week average and acute:chronic load ratio as of ``today``."""

    today: date
    weeks: list[WeekMileage]
    avg4_m: float
    load_ratio: float | None


def runs_between(session: Session, runner: Runner, first: date, last: date) -> list[Run]:
    """The runner's runs whose local date lies in [first, last]."""
    rows = session.execute(
        select(Activity.local_date, Activity.distance_m, Activity.moving_s).where(
            Activity.runner_id == runner.id,
            Activity.sport.in_(RUN_SPORTS),
            Activity.local_date.between(first, last),
        )
    )
    return [Run(d, distance, moving or 0.0) for d, distance, moving in rows]


def mileage_report(session: Session, runner: Runner, *, today: date, weeks: int) -> MileageReport:
    """Mileage for the ``weeks`` weeks up to the one holding ``today``."""
    first = today - timedelta(weeks=max(weeks, 5) + 1)
    runs = runs_between(session, runner, first, today)
    return MileageReport(
        today=today,
        weeks=weekly_mileage(runs, today=today, weeks=weeks, week_start=runner.week_start),
        avg4_m=four_week_average_m(runs, today=today, week_start=runner.week_start),
        load_ratio=load_ratio(runs, today=today),
    )


def list_activities(session: Session, runner: Runner, *, since: date | None) -> list[Activity]:
    """The runner's stored activities in start order, optionally from a local date on."""
    query = select(Activity).where(Activity.runner_id == runner.id)
    if since is not None:
        query = query.where(Activity.local_date >= since)
    return list(session.scalars(query.order_by(Activity.start_utc, Activity.id)))


def local_start(activity: Activity, runner: Runner) -> datetime:
    """The activity's start in local time, with the offset the source gave or the runner's zone."""
    if activity.utc_offset_s is not None:
        return activity.start_utc.astimezone(timezone(timedelta(seconds=activity.utc_offset_s)))
    return activity.start_utc.astimezone(ZoneInfo(runner.timezone))


def today_for(runner: Runner, now: datetime | None = None) -> date:
    """Today's date where the runner is."""
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(runner.timezone)).date()
