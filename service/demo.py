"""The demo: a separate database with a generated runner, 12 weeks of runs and a plan."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from integrations.types import ExternalActivity, Sport
from service import db as dbmod
from service.app import create_app, runtime
from service.models import Activity, Runner
from service.planning.model import Equipment, Preferences, Race, TimeOfDay, Window
from service.planning.picture import week_start_of
from service.usecases.build_plan import plan_for_runner, plan_window, runner_preferences
from service.usecases.feeds import FeedLinks, feed_links
from service.usecases.history import today_for
from service.usecases.import_files import FileResult, store_activities
from service.usecases.runners import RunnerChange, default_runner, store_preferences, update_runner

ZONE = "Europe/Berlin"
SOURCE = "demo"
HISTORY_WEEKS = 12
RACE_WEEKS = 6
RACE_KM = 21.0975
EVENINGS = (Window(time(17, 30), time(21, 30)),)
MORNINGS = (Window(time(7, 30), time(12, 0)),)


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo set up: its app, how many activities were new, the plan and the links."""

    app: Flask
    stored: FileResult
    activity_count: int
    sessions_this_week: int
    links: FeedLinks


def demo_overrides(data_dir: Path, host: str, port: int) -> dict[str, Any]:
    """Settings for the demo: its own data dir and database under ``data_dir``/demo."""
    demo_dir = data_dir / "demo"
    return {
        "data_dir": str(demo_dir),
        "database_url": f"sqlite:///{demo_dir / 'runstrength.db'}",
        "base_url": public_url(host, port),
        "single_runner": True,  # the demo runner's pages open without signing in
    }


def public_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches the server at (any-address binds -> loopback)."""
    shown = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def demo_preferences(today: date) -> Preferences:
    """Berlin, km, gym, evenings; weekday evenings and weekend mornings; a half 6 weeks out."""
    race_day = today + timedelta(weeks=RACE_WEEKS)
    race_day += timedelta(days=6 - race_day.weekday())  # that week's Sunday
    availability = dict.fromkeys(range(5), EVENINGS) | {5: MORNINGS, 6: MORNINGS}
    return Preferences(
        timezone=ZONE,
        units="km",
        week_start=0,
        equipment=frozenset({Equipment.GYM}),
        preferred_time=TimeOfDay.EVENING,
        availability=availability,
        race=Race(day=race_day, distance_km=RACE_KM),
    )


def set_up(overrides: dict[str, Any]) -> DemoResult:
    """Migrate the demo database, then create or refresh its runner, history and plan."""
    app = create_app(overrides)
    rt = runtime(app)
    dbmod.upgrade(rt.db.engine)
    with rt.db.session() as db:
        runner = default_runner(db)
        today = today_for(runner)
        store_preferences(db, runner, demo_preferences(today))
        update_runner(db, runner, RunnerChange(name="Demo runner"))
        runner_id = runner.id
    stored = store_activities(rt.db, runner_id, history(today), origin="demo")
    with rt.db.session() as db:
        runner = db.get_one(Runner, runner_id)
        window = plan_window(runner_preferences(runner), today, None, 1)
        plan = plan_for_runner(db, runner, window)
        links = feed_links(db, runner, rt.settings, rt.secret)
        count = db.scalar(select(func.count()).where(Activity.runner_id == runner_id))
    return DemoResult(app, stored, int(count or 0), len(plan.weeks[0].sessions), links)


def history(today: date) -> list[ExternalActivity]:
    """Twelve full weeks before this one plus this week up to yesterday, oldest first."""
    first = week_start_of(today, 0) - timedelta(weeks=HISTORY_WEEKS)
    found: list[ExternalActivity] = []
    day = first
    while day < today:
        week = (day - first).days // 7
        found.extend(activities_on(day, week))
        day += timedelta(days=1)
    return found


def activities_on(day: date, week: int) -> Iterator[ExternalActivity]:
    """The demo runner's activities on one day; the same day always gives the same values."""
    rng = random.Random(day.toordinal())
    scale = 0.7 if week % 4 == 3 else 1.0  # every 4th week is lighter
    weekday = day.weekday()
    if weekday in (0, 2, 3):
        km, at, pace = rng.uniform(7.0, 10.0) * scale, _clock(rng, 18, 0, 75), (330, 360)
        yield _run(day, rng, "easy", km, at=at, pace=rng.uniform(*pace))
    elif weekday == 1:
        km, at, pace = rng.uniform(9.0, 11.0) * (scale + 1) / 2, _clock(rng, 18, 30, 20), (295, 315)
        yield _run(day, rng, "intervals", km, at=at, pace=rng.uniform(*pace))
    elif weekday == 6:
        km = (12.0 + 0.9 * week) * scale + rng.uniform(-0.5, 0.5)
        at, pace = _clock(rng, 8, 30, 60), (340, 365)
        yield _run(day, rng, "long", km, at=at, pace=rng.uniform(*pace))
    elif weekday == 5 and rng.random() < 0.3:
        yield _other(day, rng, Sport.RIDE, rng.uniform(35_000, 60_000), speed=rng.uniform(7, 8))
    elif weekday == 4 and rng.random() < 0.25:
        yield _other(day, rng, Sport.SWIM, rng.uniform(1_500, 2_500), speed=rng.uniform(0.8, 0.9))


def _clock(rng: random.Random, hour: int, minute: int, spread_min: int) -> time:
    total = hour * 60 + minute + rng.randint(0, spread_min)
    return time(total // 60, total % 60)


def _start(day: date, at: time) -> tuple[datetime, int]:
    local = datetime.combine(day, at, tzinfo=ZoneInfo(ZONE))
    offset = local.utcoffset()
    assert offset is not None
    return local.astimezone(UTC), int(offset.total_seconds())


NAMES = {"easy": "Easy run", "intervals": "Intervals 6 x 800 m", "long": "Long run"}


def _run(
    day: date, rng: random.Random, kind: str, km: float, *, at: time, pace: float
) -> ExternalActivity:
    start, offset = _start(day, at)
    moving = km * pace
    return ExternalActivity(
        source=SOURCE,
        source_id=f"{day.isoformat()}-{kind}",
        sport=Sport.RUN,
        start_utc=start,
        distance_m=round(km * 1000, 1),
        utc_offset_s=offset,
        moving_s=round(moving),
        elapsed_s=round(moving + rng.uniform(30, 240)),
        elevation_gain_m=round(km * rng.uniform(3, 12)),
        is_workout=kind == "intervals",
        name=NAMES[kind],
        source_sport="running",
    )


def _other(
    day: date, rng: random.Random, sport: Sport, metres: float, speed: float
) -> ExternalActivity:
    at = _clock(rng, 9, 0, 45) if sport is Sport.RIDE else _clock(rng, 7, 0, 20)
    start, offset = _start(day, at)
    moving = metres / speed
    return ExternalActivity(
        source=SOURCE,
        source_id=f"{day.isoformat()}-{sport.value}",
        sport=sport,
        start_utc=start,
        distance_m=round(metres, 1),
        utc_offset_s=offset,
        moving_s=round(moving),
        elapsed_s=round(moving + rng.uniform(60, 600)),
        name="Morning ride" if sport is Sport.RIDE else "Pool swim",
        source_sport=sport.value,
    )
