"""The JSON API under /api/v1: the plan, weekly mileage and the OpenAPI document describing them."""

from __future__ import annotations

from datetime import date
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.history_view import mileage_json
from service.plan_view import plan_json, stored_plan
from service.usecases.history import mileage_report, today_for
from service.web.api_schemas import DOCUMENT, MILEAGE, PLAN
from service.web.auth import current_runner, public
from service.web.openapi import openapi_document, operation
from service.web.params import date_param, int_param

bp = Blueprint("api", __name__, url_prefix="/api/v1")

TODAY = date_param("today", "Plan or report as if today were this local date (default: today).")
START = date_param("start", "First week to plan; any date snaps back to the runner's week start.")
PLAN_WEEKS = int_param("weeks", "How many weeks to plan.", default=1, low=1, high=52)
MILEAGE_WEEKS = int_param(
    "weeks",
    "How many weeks to report, ending with the one holding today.",
    default=12,
    low=1,
    high=520,
)


@bp.get("/plan")
@operation(
    "The runner's plan: runs, placed sessions and what could not be placed, week by week.",
    description="The same JSON as `runstrength plan --json`, for the signed-in runner.",
    params=(START, PLAN_WEEKS, TODAY),
    ok=PLAN,
)
def plan(start: date | None, weeks: int, today: date | None) -> ResponseReturnValue:
    """The default runner's plan, built exactly as the CLI builds it."""
    built, _revised = stored_plan(runtime(), today, start, weeks, pick=current_runner)
    return jsonify(plan_json(built))


@bp.get("/mileage")
@operation(
    "Weekly running distance with the 4-week average and the load ratio.",
    description="The same JSON as `runstrength mileage --json`, for the signed-in runner.",
    params=(MILEAGE_WEEKS, TODAY),
    ok=MILEAGE,
)
def mileage(weeks: int, today: date | None) -> ResponseReturnValue:
    """The default runner's weekly mileage up to the week holding ``today``."""
    with runtime().db.session() as db:
        runner = current_runner(db)
        report = mileage_report(db, runner, today=today or today_for(runner), weeks=weeks)
    return jsonify(mileage_json(report))


@bp.get("/openapi.json")
@public
@operation("This document: every documented route the running service serves.", ok=DOCUMENT)
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document, built from the route registry and the URL map."""
    signed_in = not runtime().settings.single_runner
    document = openapi_document(
        current_app, title="runstrength", version=_version(), signed_in=signed_in
    )
    return jsonify(document)


def _version() -> str:
    try:
        return version("runstrength")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"
