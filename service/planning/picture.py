"""The training picture from past runs: weekly mileage, the 4-week average and the load ratio.

Pure functions over plain values (TRAINING.md section 1); dates are the runner's local dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

M_PER_KM = 1000.0
M_PER_MI = 1609.344
ACUTE_DAYS = 7
CHRONIC_DAYS = 28


@dataclass(frozen=True, slots=True)
class Run:
    """One run as the planner sees it: its local date, distance (m) and moving time (s)."""

    local_date: date
    distance_m: float
    moving_s: float = 0.0


@dataclass(frozen=True, slots=True)
class WeekMileage:
    """The runs of one week, the week named by its first local date."""

    week_start: date
    runs: int
    distance_m: float
    longest_m: float
    moving_s: float

    @property
    def distance_km(self) -> float:
        return self.distance_m / M_PER_KM

    @property
    def distance_mi(self) -> float:
        return self.distance_m / M_PER_MI


def week_start_of(day: date, week_start: int) -> date:
    """The first day of the week holding ``day`` (``week_start``: 0 = Monday ... 6 = Sunday)."""
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def weekly_mileage(
    runs: Iterable[Run], *, today: date, weeks: int, week_start: int = 0
) -> list[WeekMileage]:
    """``weeks`` weeks of mileage, oldest first, the last one being the week holding ``today``."""
    current = week_start_of(today, week_start)
    first = current - timedelta(weeks=weeks - 1)
    buckets: dict[date, list[Run]] = {first + timedelta(weeks=i): [] for i in range(weeks)}
    for run in runs:
        key = week_start_of(run.local_date, week_start)
        if key in buckets and run.local_date <= today:
            buckets[key].append(run)
    return [_summarise(start, members) for start, members in buckets.items()]


def _summarise(start: date, runs: Sequence[Run]) -> WeekMileage:
    return WeekMileage(
        week_start=start,
        runs=len(runs),
        distance_m=sum(r.distance_m for r in runs),
        longest_m=max((r.distance_m for r in runs), default=0.0),
        moving_s=sum(r.moving_s for r in runs),
    )


def four_week_average_m(runs: Iterable[Run], *, today: date, week_start: int = 0) -> float:
    """Average weekly distance over the four full weeks before the week holding ``today``."""
    current = week_start_of(today, week_start)
    first = current - timedelta(weeks=4)
    total = sum(r.distance_m for r in runs if first <= r.local_date < current)
    return total / 4


def load_ratio(runs: Iterable[Run], *, today: date) -> float | None:
    """Acute:chronic ratio: the last 7 days' distance over a quarter of the last 28 days'.

    Both windows end with ``today``; None when there was no running in the last 28 days.
    """
    acute_from = today - timedelta(days=ACUTE_DAYS - 1)
    chronic_from = today - timedelta(days=CHRONIC_DAYS - 1)
    acute = chronic = 0.0
    for run in runs:
        if chronic_from <= run.local_date <= today:
            chronic += run.distance_m
            if run.local_date >= acute_from:
                acute += run.distance_m
    if chronic == 0:
        return None
    return acute / (chronic / 4)
