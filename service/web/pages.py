"""The runner's page: mileage chart, this week's sessions and how to subscribe; friendly errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from service.app import runtime
from service.models import Connection
from service.plan_view import kind_name
from service.planning.model import Session, Skipped, WeekPlan
from service.usecases.build_plan import plan_for_runner, plan_window, runner_preferences
from service.usecases.connections import provider_name
from service.usecases.history import MileageReport, mileage_report, today_for
from service.web.auth import current_runner
from service.web.charts import mileage_chart, per_unit
from service.web.params import BadParameter, date_param

bp = Blueprint("pages", __name__)

CHART_WEEKS = 12
PLAN_WEEKS = 2  # this week and next
HIGH_LOAD, LOW_LOAD = 1.3, 0.8  # TRAINING.md section 2
TODAY = date_param("today", "Show the page as if today were this date (demos and tests).")
# The page shows the private feed URL: keep it out of caches, referrers and search engines.
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@dataclass(frozen=True, slots=True)
class Day:
    """One day on the page: its run (done or expected) and the sessions placed on it."""

    day: date
    run: str
    sessions: tuple[Session, ...]
    past: bool
    is_today: bool


@dataclass(frozen=True, slots=True)
class WeekView:
    """One week of the day-by-day list, with what the planner could not place."""

    plan: WeekPlan
    days: tuple[Day, ...]
    skipped: tuple[Skipped, ...]
    conflicts: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True)
class Dashboard:
    """Everything the dashboard template shows, already worked out."""

    today: date
    timezone: str
    units: str
    chart_weeks: int
    chart: Markup
    average: str
    load: str
    weeks: tuple[WeekView, ...]
    has_runs: bool
    onboarded: bool
    broken_connections: tuple[str, ...] = ()  # providers that need the runner to reconnect


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """The signed-in runner's mileage, load and this week and next, day by day."""
    try:  # other query parameters (campaign tags and the like) are no concern of a page
        today: date | None = TODAY.read(request.args.get(TODAY.name))
    except BadParameter as exc:
        return _error_page(400, "That address has a bad parameter", str(exc))
    page = _build_page(today)
    body = render_template(
        "dashboard.html",
        page=page,
        kind_name=kind_name,
        provider_name=provider_name,
    )
    return body, 200, PRIVATE


def _build_page(today: date | None) -> Dashboard:
    """Read the runner, their mileage and two weeks of plan in one transaction."""
    rt = runtime()
    with rt.db.session() as db:
        runner = current_runner(db)
        day = today or today_for(runner)
        report = mileage_report(db, runner, today=day, weeks=CHART_WEEKS)
        window = plan_window(runner_preferences(runner), day, None, PLAN_WEEKS)
        weeks = plan_for_runner(db, runner, window).weeks
        units, zone, onboarded = runner.units, runner.timezone, bool(runner.preferences)
        broken = tuple(
            db.scalars(
                select(Connection.provider)
                .where(Connection.runner_id == runner.id, Connection.state == "needs_reconnect")
                .order_by(Connection.provider)
            )
        )
    return Dashboard(
        today=day,
        timezone=zone,
        units=units,
        chart_weeks=len(report.weeks),
        chart=mileage_chart(report.weeks, units=units, avg4_m=report.avg4_m, today=day),
        average=_average_words(report, units),
        load=_load_words(report.load_ratio),
        weeks=tuple(WeekView(w, _days(w, day, units), w.skipped, w.conflicts) for w in weeks),
        has_runs=any(w.runs for w in report.weeks),
        onboarded=onboarded,
        broken_connections=broken,
    )


def _days(week: WeekPlan, today: date, units: str) -> tuple[Day, ...]:
    """Each day of the week with its run in words and its sessions in start order."""
    runs = {d.day: d for d in week.days}
    out = []
    for offset in range(7):
        day = week.week_start + timedelta(days=offset)
        planned = runs.get(day)
        run = "Rest from running"
        if planned is not None and planned.run.value != "none":
            run = f"{planned.run.value.capitalize()} run"
            if planned.planned_km:
                done = "ran" if day < today else "about"
                run += f", {done} {per_unit(planned.planned_km * 1000, units):.0f} {units}"
        sessions = tuple(sorted((s for s in week.sessions if s.day == day), key=lambda s: s.start))
        out.append(Day(day, run, sessions, past=day < today, is_today=day == today))
    return tuple(out)


def _average_words(report: MileageReport, units: str) -> str:
    """The 4-week average as a sentence."""
    if report.avg4_m <= 0:
        return "No running in the four full weeks before this one, so there is no average yet."
    average = per_unit(report.avg4_m, units)
    return f"Over the four full weeks before this one you ran {average:.1f} {units} a week."


def _load_words(ratio: float | None) -> str:
    """The acute:chronic load ratio and what it means for the plan, in words."""
    if ratio is None:
        return "No runs in the last 28 days, so there is no load ratio yet."
    told = f"Your load ratio is {ratio:.2f} (the last 7 days against your 4-week usual): "
    if ratio > HIGH_LOAD:
        return told + (
            "high. You ran a lot more than usual, so upper-body work is trimmed and "
            "cross-training makes way for rest."
        )
    if ratio < LOW_LOAD:
        return told + (
            "low, as in a down week or a break. An extra swim or ride keeps your aerobic "
            "fitness ticking over."
        )
    return told + "steady. Your running matches what your body is used to."


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    """JSON errors under /api/, a friendly page everywhere else."""
    status = exc.code or 500
    if request.path.startswith("/api/"):
        return jsonify(error=_api_error(status, exc)), status
    if status == 404:
        return _error_page(404, "Nothing here", "This page does not exist, or no longer does.")
    if status >= 500:
        return _error_page(
            status,
            "Something went wrong on our side",
            "The problem has been logged. Please try again in a moment.",
        )
    return _error_page(status, exc.name, exc.description or "")


def _api_error(status: int, exc: HTTPException) -> str:
    if status >= 500:
        return "internal error; it has been logged"
    return f"{exc.name.lower()}: {request.method} {request.path}"


def _error_page(status: int, heading: str, detail: str) -> ResponseReturnValue:
    body = render_template("error.html", status=status, heading=heading, detail=detail)
    return body, status, {"Cache-Control": "no-store"}
