"""A realistic running population for the Strava benchmark: who runs when, and what they do to
their activities afterwards (edit a title, delete a double upload)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Where runners live (weights): most of the load lands in Europe's and America's mornings.
ZONES = [("Europe/Berlin", 22), ("Europe/London", 14), ("America/New_York", 18),
         ("America/Chicago", 7), ("America/Los_Angeles", 10), ("America/Sao_Paulo", 6),
         ("Asia/Tokyo", 8), ("Asia/Kolkata", 5), ("Australia/Sydney", 7),
         ("Africa/Johannesburg", 3)]  # fmt: skip
SHARES = {"edited": 0.15, "deleted": 0.01, "late_upload": 0.03}


@dataclass(frozen=True, slots=True)
class Run:
    """One run: when it starts (UTC), how it is shaped, and when it reaches Strava."""

    runner: int
    start: datetime
    timezone: str
    distance_m: float
    moving_s: int
    workout_type: int | None
    arrives: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None


@dataclass(slots=True)
class Population:
    """Every runner's time zone and every run of the simulated weeks, in arrival order."""

    zones: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)


def population(runners: int, first_day: date, weeks: int, seed: int) -> Population:
    """``runners`` runners running 4-6 times a week (one long run at the weekend)."""
    rng = random.Random(seed)
    names, weights = zip(*ZONES, strict=True)
    zones = rng.choices(names, weights=weights, k=runners)
    runs = [
        _run(rng, runner, zones[runner], first_day + timedelta(days=7 * week + day), long=long)
        for runner in range(runners)
        for week in range(weeks)
        for day, long in _week(rng)
    ]
    return Population(zones, sorted(runs, key=lambda r: r.arrives))


def _week(rng: random.Random) -> list[tuple[int, bool]]:
    """The days (0 = Monday) a runner runs this week; True marks the long run."""
    long_day = rng.choice([5, 6])
    others = rng.sample([d for d in range(7) if d != long_day], rng.randint(3, 5))
    return [(long_day, True), *((d, False) for d in sorted(others))]


def _run(rng: random.Random, runner: int, zone: str, day: date, *, long: bool) -> Run:
    local = datetime.combine(day, _start_time(rng, long), ZoneInfo(zone))
    distance = rng.uniform(16e3, 30e3) if long else rng.uniform(5e3, 12e3)
    moving = int(distance / 1000 * rng.uniform(270, 390))  # 4:30-6:30 min/km
    finish = local + timedelta(seconds=moving * 1.05)
    late = rng.random() < SHARES["late_upload"]
    arrives = finish + (timedelta(hours=rng.uniform(2, 12)) if late
                        else timedelta(minutes=rng.uniform(1, 15)))  # fmt: skip
    edited = rng.random() < SHARES["edited"]
    deleted = rng.random() < SHARES["deleted"]
    return Run(
        runner, local, zone, round(distance, 1), moving,
        2 if long else rng.choice([None, None, None, 3]), arrives,
        arrives + timedelta(minutes=rng.uniform(2, 30)) if edited else None,
        arrives + timedelta(minutes=rng.uniform(5, 60)) if deleted else None,
    )  # fmt: skip


def _start_time(rng: random.Random, long: bool) -> time:
    if long:
        minutes = rng.uniform(7 * 60, 9.5 * 60)
    else:
        slot = rng.choices(["morning", "lunch", "evening"], weights=[60, 10, 30])[0]
        low, high = {"morning": (5.75, 7.5), "lunch": (12, 13), "evening": (17, 19.5)}[slot]
        minutes = rng.uniform(low * 60, high * 60)
    return time(int(minutes // 60), int(minutes % 60))
