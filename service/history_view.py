"""Terminal and JSON rendering of the runner, their activities and weekly mileage."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from service.app import Runtime
from service.models import Activity, Runner
from service.planning.picture import M_PER_KM, M_PER_MI
from service.preferences import WEEKDAYS
from service.usecases.history import (
    MileageReport,
    list_activities,
    local_start,
    mileage_report,
    today_for,
)
from service.usecases.runners import RunnerChange, default_runner, update_runner


def _echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, indent=2, ensure_ascii=False))


def _distance(metres: float, units: str) -> str:
    return f"{metres / (M_PER_MI if units == 'mi' else M_PER_KM):7.2f} {units}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "      -"
    total = round(seconds)
    return f"{total // 3600:d}:{total % 3600 // 60:02d}:{total % 60:02d}".rjust(7)


def runner_json(runner: Runner) -> dict[str, Any]:
    return {
        "id": runner.id,
        "name": runner.name,
        "timezone": runner.timezone,
        "units": runner.units,
        "week_start": WEEKDAYS[runner.week_start],
    }


def show_runner(rt: Runtime, as_json: bool) -> None:
    """Print the default runner's basics."""
    with rt.db.session() as session:
        data = runner_json(default_runner(session))
    if as_json:
        _echo_json(data)
        return
    for key in ("timezone", "units", "week_start", "name"):
        click.echo(f"{key.replace('_', ' ')}: {data[key] or '-'}")


def set_runner(rt: Runtime, values: dict[str, str | None]) -> None:
    """Apply a change to the default runner and print the result."""
    with rt.db.session() as session:
        runner = update_runner(session, default_runner(session), RunnerChange(**values))
        data = runner_json(runner)
    click.echo(f"runner: {data['timezone']}, {data['units']}, weeks start on {data['week_start']}")


def activity_json(activity: Activity, runner: Runner) -> dict[str, Any]:
    return {
        "id": activity.id,
        "source": activity.source,
        "sport": activity.sport,
        "start": local_start(activity, runner).isoformat(),
        "start_utc": activity.start_utc.isoformat().replace("+00:00", "Z"),
        "distance_m": round(activity.distance_m, 2),
        "moving_s": activity.moving_s,
        "elapsed_s": activity.elapsed_s,
        "origin": activity.origin,
    }


def activities(rt: Runtime, since: date | None, as_json: bool) -> None:
    """Print the stored activities, one per line or as JSON."""
    with rt.db.session() as session:
        runner = default_runner(session)
        rows = [activity_json(a, runner) for a in list_activities(session, runner, since=since)]
        units = runner.units
    if as_json:
        _echo_json({"activities": rows})
        return
    if not rows:
        click.echo("no activities stored yet: try `runstrength import PATH`")
    for row in rows:
        start = row["start"][:16].replace("T", " ")
        distance = _distance(row["distance_m"], units)
        time = _duration(row["moving_s"] or row["elapsed_s"])
        click.echo(
            f"{start} {row['start'][19:]:>6}  {row['sport']:<13} {distance}  {time}"
            f"  {row['source']:<4} {row['origin']}"
        )


def mileage_json(report: MileageReport) -> dict[str, Any]:
    return {
        "today": report.today.isoformat(),
        "weeks": [
            {
                "week_start": w.week_start.isoformat(),
                "runs": w.runs,
                "distance_km": round(w.distance_km, 3),
                "distance_mi": round(w.distance_mi, 3),
                "longest_km": round(w.longest_m / M_PER_KM, 3),
                "moving_s": round(w.moving_s),
            }
            for w in report.weeks
        ],
        "avg4_km": round(report.avg4_m / M_PER_KM, 3),
        "load_ratio": None if report.load_ratio is None else round(report.load_ratio, 3),
    }


def mileage(rt: Runtime, weeks: int, today: date | None, as_json: bool) -> None:
    """Print weekly mileage as a table or JSON."""
    with rt.db.session() as session:
        runner = default_runner(session)
        report = mileage_report(session, runner, today=today or today_for(runner), weeks=weeks)
        units = runner.units
    if as_json:
        _echo_json(mileage_json(report))
        return
    click.echo(f"{'week of':<10}  runs  {'distance':>10}  {'longest':>10}  {'time':>7}")
    for w in report.weeks:
        click.echo(
            f"{w.week_start.isoformat():<10}  {w.runs:>4}  {_distance(w.distance_m, units):>10}"
            f"  {_distance(w.longest_m, units):>10}  {_duration(w.moving_s)}"
        )
    ratio = (
        "n/a (no runs in the last 28 days)"
        if report.load_ratio is None
        else f"{report.load_ratio:.2f}"
    )
    click.echo(f"4-week average: {_distance(report.avg4_m, units).strip()} per week")
    click.echo(f"load ratio (last 7 days : 28-day weekly average): {ratio}")
