"""Dashboard benchmark: server time of `GET /` for a signed-in runner with 3 years of runs.

Builds a fresh SQLite database in a temporary folder, signs a runner up through the real form,
stores their preferences and ~3 years of runs (about 5 a week, plus some rides and swims) with
the real use case in one transaction, then times `GET /` through the Flask test client.

    .venv/bin/python bench/dashboard.py                    # 3 years, 200 timed requests
    .venv/bin/python bench/dashboard.py --requests 50 --profile 50
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import math
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time as clock
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from integrations.types import ExternalActivity, Sport
from service import db as dbmod
from service.app import create_app, runtime
from service.models import Account, Activity, Runner
from service.preferences import parse_preferences
from service.usecases.import_files import store_activities
from service.usecases.runners import store_preferences

ZONE = ZoneInfo("Europe/Berlin")
EMAIL = "bench@example.com"
PASSWORD = "correct horse battery"
TARGET_MS = 50.0
PREFS = {
    "equipment": ["dumbbells", "bands"],
    "preferred_time": "evening",
    "upper_body_per_week": 3,
    "long_run_day": "sunday",
    "hard_days": ["tuesday"],
    "availability": {
        "monday": ["18:00-21:00"],
        "tuesday": ["06:30-08:00", "18:00-21:30"],
        "wednesday": ["18:00-21:00"],
        "thursday": ["18:00-21:00"],
        "friday": ["17:00-21:00"],
        "saturday": ["08:00-12:00", "15:00-18:00"],
        "sunday": ["08:00-18:00"],
    },
}
# Weekday -> (kind, start hour): five runs a week around a Tuesday workout and a Sunday long run.
WEEK = {1: ("hard", 18), 2: ("easy", 7), 3: ("easy", 18), 5: ("easy", 9), 6: ("long", 9)}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def history(today: date, years: int, rng: random.Random) -> Iterator[ExternalActivity]:
    """Runs from ``years`` years ago to yesterday: build and down weeks, misses, rides, swims."""
    first = today - timedelta(days=round(365.25 * years))
    for offset in range((today - first).days):
        day = first + timedelta(days=offset)
        week = offset // 7
        volume = 1 + 0.25 * math.sin(week / 8) + (-0.3 if week % 4 == 3 else 0.0)  # cycles, deloads
        planned = WEEK.get(day.weekday())
        if planned is not None and rng.random() > 0.08:  # about one run in twelve is missed
            yield _run(day, planned, volume, rng)
        elif day.weekday() == 4 and week % 2 == 0:
            yield _other(day, Sport.SWIM if week % 4 == 0 else Sport.RIDE, rng)


def _run(
    day: date, planned: tuple[str, int], volume: float, rng: random.Random
) -> ExternalActivity:
    kind, hour = planned
    km = {"easy": rng.uniform(6, 11), "hard": rng.uniform(9, 13), "long": rng.uniform(16, 28)}[kind]
    km *= volume
    pace_s = {"easy": rng.uniform(330, 375), "hard": rng.uniform(270, 300), "long": 345.0}[kind]
    start = datetime.combine(day, time(hour, rng.choice((0, 10, 25, 40))), ZONE)
    moving = km * pace_s
    return ExternalActivity(
        source="bench",
        source_id=f"run-{day.isoformat()}",
        sport=Sport.RUN,
        start_utc=start.astimezone(UTC),
        distance_m=round(km * 1000, 1),
        utc_offset_s=_offset(start),
        moving_s=round(moving),
        elapsed_s=round(moving * rng.uniform(1.01, 1.06)),
        elevation_gain_m=round(km * rng.uniform(3, 12)),
        is_workout=kind == "hard",
        name=f"{kind.capitalize()} run",
    )


def _other(day: date, sport: Sport, rng: random.Random) -> ExternalActivity:
    start = datetime.combine(day, time(17, 30), ZONE)
    km = rng.uniform(1.5, 3) if sport is Sport.SWIM else rng.uniform(25, 45)
    return ExternalActivity(
        source="bench",
        source_id=f"{sport.value}-{day.isoformat()}",
        sport=sport,
        start_utc=start.astimezone(UTC),
        distance_m=round(km * 1000, 1),
        utc_offset_s=_offset(start),
        moving_s=round(km * (1500 if sport is Sport.SWIM else 130)),
    )


def _offset(start: datetime) -> int:
    offset = start.utcoffset()
    return int(offset.total_seconds()) if offset else 0


def set_up(folder: Path, years: int, seed: int) -> tuple[Flask, FlaskClient, int]:
    """A migrated app, a signed-in runner with preferences and ``years`` of activities."""
    app = create_app({"data_dir": str(folder), "database_url": f"sqlite:///{folder / 'bench.db'}"})
    rt = runtime(app)
    dbmod.upgrade(rt.db.engine)
    client = app.test_client()
    page = client.get("/signup").get_data(as_text=True)
    token = CSRF_META.search(page)
    assert token, "no CSRF token on /signup"
    form = {"email": EMAIL, "password": PASSWORD, "confirm": PASSWORD, "timezone": ZONE.key}
    signed = client.post("/signup", data=form | {"csrf_token": token[1]})
    assert signed.status_code == 302, signed.status_code
    with rt.db.session() as db:
        runner_id = db.scalars(select(Account.runner_id).where(Account.email == EMAIL)).one()
        store_preferences(db, db.get_one(Runner, runner_id), parse_preferences(PREFS))
    today = datetime.now(ZONE).date()
    started = clock.perf_counter()
    store_activities(rt.db, runner_id, history(today, years, random.Random(seed)), "bench")
    print(f"stored {years} years of activities in {clock.perf_counter() - started:.1f} s")
    with rt.db.session() as db:
        count = db.scalar(select(func.count()).where(Activity.runner_id == runner_id))
    page = client.get("/").get_data(as_text=True)
    assert 'class="session' in page, "the dashboard shows no sessions"
    assert "you ran" in page, "the dashboard shows no 4-week average"
    return app, client, int(count or 0)


def timed(client: FlaskClient, n: int) -> list[float]:
    """Milliseconds for each of ``n`` requests of the dashboard (request log lines discarded)."""
    times = []
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        for _ in range(n):
            started = clock.perf_counter()
            response = client.get("/")
            times.append((clock.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def profile(client: FlaskClient, n: int, top: int) -> None:
    """cProfile over ``n`` requests: the functions with the most cumulative and own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    timed(client, n)
    profiler.disable()
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        print(f"\n== profile over {n} requests, by {key} ==")
        print("\n".join(out.getvalue().splitlines()[6:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0, help="profile this many requests")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rs-bench-dashboard-") as tmp:
        app, client, count = set_up(Path(tmp), args.years, args.seed)
        first = timed(client, 1)[0]
        timed(client, args.warmup)
        times = timed(client, args.requests)
        median, p95 = statistics.median(times), percentile(times, 0.95)
        verdict = "met" if p95 < TARGET_MS else "missed"
        print(f"activities: {count}; first request {first:.1f} ms")
        print(
            f"GET / x{args.requests}: median {median:.1f} ms, p95 {p95:.1f} ms, "
            f"min {min(times):.1f} ms, max {max(times):.1f} ms "
            f"(target: p95 < {TARGET_MS:.0f} ms, {verdict})"
        )
        if args.profile:
            profile(client, args.profile, args.top)
        runtime(app).db.dispose()


if __name__ == "__main__":
    main()
