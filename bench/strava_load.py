"""Strava benchmark: 1,000 runners for 4 weeks against the fake Strava, on a simulated clock.

Measures what the app's rate limits care about: API calls per runner-week and per new activity,
the busiest 15 minutes and day against the read limits (100 / 15 min, 1,000 / day), 429s, and
how late each run lands after it reached Strava (target: the same 15-minute window).

    .venv/bin/python bench/strava_load.py                       # 1000 runners, 4 weeks
    .venv/bin/python bench/strava_load.py --runners 100 --weeks 1
    .venv/bin/python bench/strava_load.py --database-url postgresql://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from bench.strava_sim import Simulation, Tally
from bench.strava_workload import population
from service import db as dbmod
from service.app import create_app, runtime
from service.models import ActivitySource
from tests.fakes.strava import FakeStrava, Limits

FIRST_DAY = date(2026, 11, 2)  # a Monday


@dataclass(frozen=True, slots=True)
class Report:
    """The numbers bench/README.md records."""

    runners: int
    weeks: int
    uploaded: int
    edited: int
    deleted: int
    events_delivered: int
    events_lost: int
    api_calls: int
    calls_per_runner_week: float
    calls_per_new_activity: float
    reconciles: int
    peak_15min_reads: int
    read_limit_15min: int
    peak_day_reads: int
    read_limit_day: int
    responses_429: int
    job_waits: int
    lateness_p50_s: float
    lateness_p99_s: float
    lateness_max_s: float
    landed_in_arrival_window: float
    landed_within_15min: float
    edits_landed: int
    edit_lateness_p50_min: float
    edit_lateness_p95_h: float
    edit_lateness_max_h: float
    lost_event_runs_found: int
    lost_event_edits_found: int
    lost_event_found_after_h_max: float
    missing_at_end: int
    extra_at_end: int
    wall_s: float


def simulate(
    runners: int,
    weeks: int,
    seed: int = 1,
    database_url: str | None = None,
    limits: Limits | None = None,
) -> Report:
    """Build a fresh installation and fake Strava (Strava's default limits unless ``limits``;
    the app is told the same), run the weeks, and report."""
    started = time.perf_counter()
    limits = limits or Limits()
    fake = FakeStrava(limits=limits).start()
    with tempfile.TemporaryDirectory() as tmp, _fresh(database_url) as url:
        overrides: dict[str, object] = {
            "data_dir": tmp, "encryption_keys": Fernet.generate_key().decode(),
            "strava_read_limit_15min": limits.read[0], "strava_read_limit_day": limits.read[1],
            **fake.settings_overrides(),
        }  # fmt: skip
        if url:
            overrides["database_url"] = url
        rt = runtime(create_app(overrides))
        dbmod.upgrade(rt.db.engine)
        try:
            start = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
            sim = Simulation(rt, fake, population(runners, FIRST_DAY, weeks, seed), seed)
            sim.connect_everyone(start)
            tally = sim.run(start, start + timedelta(weeks=weeks))
            missing, extra = _differences(sim)
        finally:
            rt.db.dispose()
            fake.stop()
        return _report(
            fake, tally, (runners, weeks), (missing, extra), time.perf_counter() - started
        )


@contextlib.contextmanager
def _fresh(database_url: str | None) -> Iterator[str | None]:
    """A PostgreSQL URL gets a schema of its own for the run, dropped afterwards (SQLite: the
    temporary data folder's own file)."""
    postgres = (database_url or "").startswith(("postgresql", "postgres:"))
    if not database_url or not postgres or "search_path" in database_url:  # given a schema
        yield database_url
        return
    schema = f"rs_bench_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(database_url, autocommit=True)
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in database_url else "?"
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def _differences(sim: Simulation) -> tuple[int, int]:
    """Strava activities we lack, and ones we keep that Strava no longer has."""
    truth = {str(a) for a in sim.fake.data.activities}
    with sim.rt.db.session() as db:
        stored = set(db.scalars(
            select(ActivitySource.source_id).where(ActivitySource.source == "strava")
        ))  # fmt: skip
        assert db.scalar(select(func.count()).select_from(ActivitySource)) == len(stored)
    return len(truth - stored), len(stored - truth)


def _report(
    fake: FakeStrava,
    tally: Tally,
    size: tuple[int, int],
    differences: tuple[int, int],
    wall_s: float,
) -> Report:
    runners, weeks = size
    missing, extra = differences
    api = [r for r in fake.requests() if r.path.startswith("/api/v3/")]
    late = sorted(tally.lateness_s) or [0.0]
    edits = sorted(tally.edit_lateness_s) or [0.0]
    return Report(
        runners, weeks, tally.uploaded, tally.edited, tally.deleted, tally.delivered,
        tally.lost, len(api), round(len(api) / (runners * weeks), 2),
        round(len(api) / max(1, tally.uploaded), 3), tally.reconciles,
        max(tally.reads_by_quarter.values(), default=0), fake.limits.read[0],
        max(tally.reads_by_day.values(), default=0), fake.limits.read[1],
        sum(1 for r in api if r.status == 429), tally.retries,
        round(statistics.median(late), 1), round(late[int(0.99 * (len(late) - 1))], 1),
        round(late[-1], 1), round(tally.same_window / max(1, len(tally.lateness_s)), 4),
        round(sum(1 for s in tally.lateness_s if s <= 900) / max(1, len(tally.lateness_s)), 4),
        len(edits), round(statistics.median(edits) / 60, 1),
        round(edits[int(0.95 * (len(edits) - 1))] / 3600, 1), round(edits[-1] / 3600, 1),
        len(tally.recovered_s), len(tally.lost_edit_s),
        round(max(tally.recovered_s + tally.lost_edit_s, default=0.0) / 3600, 1),
        missing, extra, round(wall_s, 1),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runners", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--read-limits", default="100,1000", help="per 15 minutes, per day")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # jobs log every wait; the report sums them up
    quarter, day = (int(n) for n in args.read_limits.split(","))
    limits = Limits(overall=(2 * quarter, 2 * day), read=(quarter, day))
    report = simulate(args.runners, args.weeks, args.seed, args.database_url, limits)
    for name, value in asdict(report).items():
        print(f"{name:32} {value}")
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")


if __name__ == "__main__":
    main()
