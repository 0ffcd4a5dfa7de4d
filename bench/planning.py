"""Planning benchmark: build_plan over synthetic stored histories, no database.

Builds N runners with 16 weeks of history each (varied run patterns, paces, start times and
preferences), then plans W weeks for each and prints runner-weeks per second on one core.

    .venv/bin/python bench/planning.py                  # 1000 runners x 10 weeks
    .venv/bin/python bench/planning.py --runners 200 --weeks 5
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.planning.model import (
    Equipment,
    PastRun,
    PlanRequest,
    Preferences,
    Race,
    TimeOfDay,
    Window,
)
from service.planning.planner import build_plan

TODAY = date(2026, 11, 25)
START = date(2026, 11, 30)
ZONES = ("Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo", "Australia/Sydney")


def _history(rng: random.Random) -> tuple[PastRun, ...]:
    """16 weeks of runs on a random weekly pattern with some noise, ending yesterday."""
    days = sorted(rng.sample(range(7), rng.randint(2, 6)))
    long_day = rng.choice(days)
    hard = rng.choice(days)
    weekly_km = rng.uniform(12, 95)
    hour = rng.choice([6, 7, 12, 17, 18, 19])
    runs = []
    first = TODAY - timedelta(weeks=16)
    for offset in range((TODAY - first).days):
        day = first + timedelta(days=offset)
        if day.weekday() not in days or rng.random() < 0.1:
            continue
        share = 0.35 if day.weekday() == long_day else 0.65 / max(1, len(days) - 1)
        km = weekly_km * share * rng.uniform(0.8, 1.2)
        pace = 4.6 if day.weekday() == hard else rng.uniform(5.4, 6.4)
        start = datetime.combine(day, time(hour, rng.choice([0, 15, 30])))
        runs.append(
            PastRun(day, km * 1000, km * pace * 60, start, is_workout=day.weekday() == hard)
        )
    return tuple(runs)


def _prefs(rng: random.Random) -> Preferences:
    availability = None
    if rng.random() < 0.5:
        availability = {
            d: (Window(time(rng.randint(6, 17)), time(21)),) for d in rng.sample(range(7), 5)
        }
    race = Race(START + timedelta(days=rng.randint(10, 120)), 21.1) if rng.random() < 0.4 else None
    return Preferences(
        timezone=rng.choice(ZONES),
        equipment=frozenset(rng.sample(list(Equipment), rng.randint(1, 2))),
        preferred_time=rng.choice(list(TimeOfDay)),
        upper_body_per_week=rng.choice([None, None, 2, 3]),
        availability=availability,
        race=race,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    t0 = clock.perf_counter()
    requests = [
        PlanRequest(f"runner-{i}", _prefs(rng), _history(rng), TODAY, START, weeks=args.weeks)
        for i in range(args.runners)
    ]
    built = clock.perf_counter() - t0
    runs = sum(len(r.history) for r in requests)
    print(f"histories: {args.runners} runners, {runs} runs, built in {built:.2f} s")
    t0 = clock.perf_counter()
    sessions = skipped = 0
    for req in requests:
        plan = build_plan(req)
        sessions += sum(len(w.sessions) for w in plan.weeks)
        skipped += sum(len(w.skipped) for w in plan.weeks)
    elapsed = clock.perf_counter() - t0
    runner_weeks = args.runners * args.weeks
    print(f"planned: {runner_weeks} runner-weeks, {sessions} sessions, {skipped} skipped")
    print(f"time: {elapsed:.2f} s -> {runner_weeks / elapsed:,.0f} runner-weeks/s")


if __name__ == "__main__":
    main()
